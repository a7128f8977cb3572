"""The FastAPI application: `create_app()` builds it from schema.yaml and the
SERVE_* environment (see settings.py); `{cli} serve` runs it under uvicorn."""

import gc
import logging
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from ..errors import ProjectError
from ..predict import champion_uri
from ..schema import Schema, load_schema
from ..settings import load_params
from . import model_source
from .json_bodies import JsonBody, install_openapi, raise_invalid
from .observability import API_KEY_HEADER, RequestMiddleware, ServiceMetrics
from .prediction_log import PredictionLog
from .predictors import Predictions, Predictor, build_predictor
from .routing import DirectRoute
from .schemas import (
    InvocationsResponse,
    batch_response_model,
    batch_type,
    invocation_rows,
    invocations_type,
    prediction_model,
    record_type,
    single_response_model,
)
from .settings import ServiceSettings

log = logging.getLogger("service")


class ServiceState:
    """What the lifespan loaded: the predictor, or why there is none."""

    def __init__(self) -> None:
        self.predictor: Predictor | None = None
        self.metadata: dict[str, Any] = {}
        self.prediction_buckets: list[float] | None = None
        self.error: str | None = "model is loading"

    def load(self, model_uri: str, schema: Schema, backend: str) -> None:
        try:
            loaded = model_source.load(model_uri)
            predictor = build_predictor(loaded.model, schema, backend, loaded.example)
            if loaded.example:
                predictor.predict(loaded.example)  # warm up before reporting ready
        except (ProjectError, ValueError, OSError) as error:
            self.error = f"model {model_uri} not loaded: {error}"
            log.error(self.error)
            return
        self.predictor, self.error = predictor, None
        self.metadata = {**loaded.metadata, "backend": predictor.backend}
        self.prediction_buckets = loaded.prediction_buckets
        log.info("model ready", extra={"fields": self.metadata})

    def ready(self) -> Predictor:
        if self.predictor is None:
            raise HTTPException(503, detail=self.error)
        return self.predictor


async def _predict(predictor: Predictor, records: list[dict]) -> Predictions:
    # ONNX answers in microseconds: run inline. scikit-learn can take
    # milliseconds: keep the event loop free for other requests.
    if predictor.backend == "onnx":
        return predictor.predict(records)
    return await run_in_threadpool(predictor.predict, records)


def create_app(
    settings: ServiceSettings | None = None, schema: Schema | None = None
) -> FastAPI:
    settings = settings or ServiceSettings.from_env()
    schema = schema or load_schema()
    model_uri = settings.model_uri or champion_uri(load_params().registry.model_name)
    state = ServiceState()
    metrics = ServiceMetrics()
    prediction_log = (
        PredictionLog(
            settings.prediction_log_dir,
            settings.prediction_log_queue,
            schema.feature_names,
            on_drop=metrics.dropped_logs.inc,
        )
        if settings.prediction_log_dir
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state.load(model_uri, schema, settings.backend)
        # Exempt the start-up heap (libraries, model) from garbage collection:
        # full collections would otherwise rescan it while requests wait.
        gc.collect()
        gc.freeze()
        if state.predictor is not None:
            meta = state.metadata
            metrics.model_info.labels(
                meta.get("name", ""), meta.get("version", ""), meta["backend"]
            ).set(1)
            if not schema.is_classification:
                metrics.track_prediction_values(state.prediction_buckets)
        if prediction_log:
            prediction_log.start()
        yield
        if prediction_log:
            prediction_log.close()  # every queued prediction reaches the log

    components: dict = {}
    Record = record_type(schema)
    record_body = JsonBody(Record, components)
    batch_body = JsonBody(batch_type(Record, settings.max_batch_size), components)
    invocations_body = JsonBody(
        invocations_type(Record, settings.max_batch_size), components
    )
    records_adapter = TypeAdapter(list[Record])
    Prediction = prediction_model(schema)

    app = FastAPI(
        title=schema.target.name.replace("_", " ").capitalize() + " model service",
        description="Predictions from the registered model; inputs follow schema.yaml.",
        lifespan=lifespan,
    )
    # The key is declared only when one is set, so the OpenAPI document tells
    # the truth; the middleware checks it before a body is read.
    api_key_scheme = {"type": "apiKey", "in": "header", "name": API_KEY_HEADER}
    security_schemes = {"APIKey": api_key_scheme} if settings.api_key else {}
    install_openapi(app, components, security_schemes)
    app.add_middleware(
        RequestMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        json_paths={"/predict", "/predict/batch", "/invocations"},
        api_key=settings.api_key,
    )
    security = {"security": [{"APIKey": []}]} if security_schemes else {}
    errors = {
        code: {"description": text}
        for code, text in {
            400: "body is not valid JSON text",
            **({401: "missing or wrong X-API-Key"} if settings.api_key else {}),
            413: "body larger than SERVE_MAX_BODY_BYTES",
            415: "body is not JSON",
            422: "the body does not match the schema (each field and problem named)",
            503: "model not loaded",
        }.items()
    }
    not_ready = {503: {"description": "model not loaded"}}

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError):
        # Location, message and type only: echoing the input back could be
        # large, and NaN or Infinity inputs cannot be written as JSON.
        detail = [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
            for e in error.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        request_id = request.scope.get("state", {}).get("request_id")
        log.exception("unhandled error", extra={"fields": {"request_id": request_id}})
        body = {"detail": "internal error", "request_id": request_id}
        return JSONResponse(body, status_code=500)

    async def predict_rows(request: Request, rows: list[dict]) -> list[dict]:
        """Predict validated rows; queue them for the prediction log."""
        predictor = state.ready()
        result = await _predict(predictor, rows)
        items: list[dict] = [{"prediction": label} for label in result.labels]
        if result.probabilities is not None:
            for item, probabilities in zip(items, result.probabilities, strict=True):
                item["probabilities"] = probabilities
        if prediction_log:
            prediction_log.submit(request.state.request_id, version(), rows, items)
        metrics.observe_predictions(result.labels, schema.is_classification)
        return items

    def version() -> str:
        return str(state.metadata.get("version", ""))

    def json_response(content: dict) -> Response:
        return Response(orjson.dumps(content), media_type="application/json")

    def prediction_route(path: str, response_model, body: JsonBody):
        def register(endpoint):
            app.router.add_api_route(
                path,
                endpoint,
                methods=["POST"],
                route_class_override=DirectRoute,
                response_model=response_model,
                responses=errors,
                openapi_extra={**body.openapi_extra, **security},
            )
            return endpoint

        return register

    @prediction_route("/predict", single_response_model(Prediction), record_body)
    async def predict(request: Request) -> Response:
        """Predict one record."""
        row = await record_body.read(request)
        item = (await predict_rows(request, [row]))[0]
        return json_response({**item, "model_version": version()})

    @prediction_route("/predict/batch", batch_response_model(Prediction), batch_body)
    async def predict_batch(request: Request) -> Response:
        """Predict up to SERVE_MAX_BATCH_SIZE records at once."""
        rows = (await batch_body.read(request))["records"]
        items = await predict_rows(request, rows)
        return json_response({"model_version": version(), "predictions": items})

    @prediction_route("/invocations", InvocationsResponse, invocations_body)
    async def invocations(request: Request) -> Response:
        """MLflow scoring-server compatible: dataframe_split, dataframe_records,
        instances or inputs; answers {"predictions": [...]}."""
        body = await invocations_body.read(request)
        try:
            rows, unchecked = invocation_rows(body)
        except ValueError as error:
            raise RequestValidationError(
                [{"type": "value_error", "loc": ("body",), "msg": str(error)}]
            ) from None
        if unchecked:
            try:
                rows = records_adapter.validate_python(rows)
            except ValidationError as error:
                raise_invalid(error, ("body", "records"))
        items = await predict_rows(request, rows)
        return json_response({"predictions": [item["prediction"] for item in items]})

    @app.get("/health")
    async def health() -> dict:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/ready", responses=not_ready)
    async def ready() -> dict:
        """Readiness: the model is loaded and warmed up (503 otherwise)."""
        state.ready()
        return {"status": "ready", "model_version": state.metadata.get("version")}

    @app.get("/metadata", responses=not_ready)
    async def metadata() -> dict:
        """The model being served, its metrics and the input schema."""
        state.ready()
        return {**state.metadata, "schema": schema.model_dump(exclude_none=True)}

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(
            generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST
        )

    return app
