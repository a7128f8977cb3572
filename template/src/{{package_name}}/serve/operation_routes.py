"""Endpoints for operating the service: liveness, readiness, the model being
served and Prometheus metrics. Ordinary FastAPI: a new endpoint of this kind
goes here, added in `add_operation_routes`."""

from fastapi import FastAPI, HTTPException, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .error_handlers import NOT_READY, key_errors, key_security
from .state import ServiceStateDep

# Who trained the model on what (run id, Git commit, metrics): for the
# service's users, so it needs the API key when one is set.
GUARDED_OPERATION_PATHS = {"/metadata"}


async def health() -> dict:
    """Liveness: the process answers."""
    return {"status": "ok"}


async def ready(state: ServiceStateDep) -> dict:
    """Readiness: the model is loaded and warmed up, and its circuit is not
    open (503 otherwise, with the reason)."""
    model = state.current_model()
    if reason := state.breaker.open_reason():
        raise HTTPException(503, detail=reason)
    return {"status": "ready", "model_version": model.metadata.get("version")}


async def metadata(state: ServiceStateDep) -> dict:
    """The model being served, its metrics and the input schema; why the
    version its alias moved to is not served, if it is not; the shadow
    model, or why it is not running."""
    model = state.current_model()
    reload_error = {"reload_error": state.reload_error} if state.reload_error else {}
    shadow = {"shadow": shadow} if (shadow := state.shadow_description()) else {}
    schema = state.schema.model_dump(exclude_none=True)
    return {**model.metadata, **reload_error, **shadow, "schema": schema}


async def prometheus_metrics(state: ServiceStateDep) -> Response:
    registry = state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def add_operation_routes(app: FastAPI, api_key: bool) -> None:
    """On the app's own router, not an included APIRouter: /health is the
    HTTP floor of the serving benchmark, and an included router is one more
    routing layer on every request (FastAPI 0.137+)."""
    app.get("/health")(health)
    app.get("/ready", responses=NOT_READY)(ready)
    app.get(
        "/metadata",
        responses=key_errors(api_key) | NOT_READY,
        openapi_extra=key_security(api_key),
    )(metadata)
    app.get("/metrics", include_in_schema=False)(prometheus_metrics)
