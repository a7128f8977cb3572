"""The FastAPI application: `create_app()` builds it from schema.yaml and the
SERVE_* environment (environment.ServeSettings); `{cli} serve` runs it under
uvicorn.

To add an endpoint, write an ordinary FastAPI route (an APIRouter included
here, or `app.get(...)` on the app this returns); `ServiceStateDep` gives it
the model, schema, settings and metrics."""

import asyncio
import contextlib
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ..environment import ServeSettings
from ..schema import Schema, load_schema
from ..settings import champion_uri, load_params
from .error_handlers import install_error_handlers
from .json_bodies import install_openapi
from .observability import API_KEY_HEADER, RequestMiddleware
from .operation_routes import GUARDED_OPERATION_PATHS, add_operation_routes
from .prediction_routes import PATHS, add_prediction_routes
from .reload import start_following
from .state import ServiceState


@asynccontextmanager
async def lifespan(app: FastAPI):
    state: ServiceState = app.state.service
    state.start()
    follower = start_following(state)
    yield
    if follower:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
    state.stop()


def create_app(
    settings: ServeSettings | None = None, schema: Schema | None = None
) -> FastAPI:
    settings = settings or ServeSettings.read()
    schema = schema or load_schema()
    model_uri = settings.model_uri or champion_uri(load_params().registry.model_name)
    app = FastAPI(
        title=schema.target.name.replace("_", " ").capitalize() + " model service",
        description="Predictions from the registered model; inputs follow schema.yaml.",
        lifespan=lifespan,
    )
    app.state.service = state = ServiceState(settings, schema, model_uri)
    components: dict = {}
    add_prediction_routes(app, schema, settings, components)
    add_operation_routes(app, api_key=bool(settings.api_key))
    install_error_handlers(app)
    api_key_scheme = {"type": "apiKey", "in": "header", "name": API_KEY_HEADER}
    security_schemes = {"APIKey": api_key_scheme} if settings.api_key else {}
    install_openapi(app, components, security_schemes)
    app.add_middleware(
        RequestMiddleware,
        metrics=state.metrics,
        max_body_bytes=settings.max_body_bytes,
        json_paths=PATHS,
        guarded_paths=PATHS | GUARDED_OPERATION_PATHS,
        api_key=settings.api_key,
        body_timeout=settings.body_timeout_seconds,
    )
    return app
