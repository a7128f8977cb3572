"""The prediction endpoints: /predict, /predict/batch and /invocations.

They are the hot path, so they skip FastAPI's per-request machinery
(routing.DirectRoute): each handler reads and validates its raw body in one
pass (json_bodies.JsonBody), takes the state with `service_state` itself and
returns its Response. Other endpoints are ordinary FastAPI (operation_routes).
"""

import time
from typing import Any

import anyio
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError

from ..environment import ServeSettings
from ..schema import Schema
from .circuit_breaker import BreakerState, PredictionTimeout
from .error_handlers import key_security, prediction_errors
from .json_bodies import JsonBody, raise_invalid
from .predictors import Predictions, Predictor
from .routing import DirectRoute
from .schemas import (
    InvocationsResponse,
    RuntimeType,
    batch_response_model,
    batch_type,
    invocation_rows,
    invocations_type,
    prediction_model,
    record_type,
    single_response_model,
)
from .state import ServiceState, service_state

PATHS = {"/predict", "/predict/batch", "/invocations"}
INLINE_ROWS = 16  # ONNX predictions of up to this many rows run on the event loop


async def _predict(
    state: ServiceState, predictor: Predictor, records: list[dict]
) -> Predictions:
    """The model's predictions, through its circuit breaker: a prediction
    that raises or times out counts against the model."""
    admitted = state.breaker.admit()  # CircuitOpen: 503 with Retry-After
    timeout = state.settings.prediction_timeout_seconds
    started = time.perf_counter()
    try:
        result = await _call(predictor, records, timeout)
    except TimeoutError:
        failure = f"no answer within {timeout:g} s (SERVE_PREDICTION_TIMEOUT_SECONDS)"
        _failed(state, admitted, "timeout", failure)
        raise PredictionTimeout(failure) from None
    except Exception as error:
        _failed(state, admitted, "error", f"{type(error).__name__}: {error}")
        raise
    except BaseException:  # cancelled (the client left): no verdict on the model
        state.breaker.abandon(admitted)
        raise
    elapsed = time.perf_counter() - started
    if elapsed > timeout:  # an inline call, which cannot be abandoned
        _failed(state, admitted, "timeout", f"answered in {elapsed:.1f} s")
    else:
        state.breaker.record(admitted, None)
    return result


async def _call(predictor: Predictor, records: list[dict], timeout: float):
    # ONNX answers a few rows in microseconds: inline, a thread hand-off
    # would cost more. A batch, or scikit-learn, takes milliseconds: in a
    # thread, so the event loop keeps answering other requests meanwhile,
    # and left to finish on its own if it outlasts the timeout.
    if predictor.backend == "onnx" and len(records) <= INLINE_ROWS:
        return predictor.predict(records)
    with anyio.fail_after(timeout):
        return await anyio.to_thread.run_sync(
            predictor.predict, records, abandon_on_cancel=True
        )


def _failed(
    state: ServiceState, admitted: BreakerState, reason: str, failure: str
) -> None:
    state.metrics.prediction_failures.labels(reason).inc()
    state.breaker.record(admitted, failure)


async def predict_rows(
    state: ServiceState, request: Request, rows: list[dict]
) -> tuple[list[dict], str]:
    """Predict validated rows, queue them for the prediction log (and the
    shadow model); returns the predictions and the version of the model
    that made them."""
    model = state.current_model()  # the same model for the whole request
    result = await _predict(state, model.predictor, rows)
    items = result.items()
    if state.prediction_log:
        state.prediction_log.submit(
            request.state.request_id, model.version, rows, items
        )
    if state.shadow:  # the challenger, off the request path
        state.shadow.submit(request.state.request_id, rows)
    state.metrics.observe_predictions(result.labels, state.schema.is_classification)
    return items, model.version


def json_response(content: dict) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


def add_prediction_routes(
    app: FastAPI, schema: Schema, settings: ServeSettings, components: dict[str, Any]
) -> None:
    """The endpoints, with request bodies typed from the schema; their shared
    JSON schema definitions go into `components` for the OpenAPI document.
    They go on the app's own router: an included APIRouter is one more
    routing layer on every request (FastAPI 0.137+), about 4% of a
    single-record prediction."""
    Record: RuntimeType = record_type(schema)
    record_body = JsonBody(Record, components)
    batch_body = JsonBody(batch_type(Record, settings.max_batch_size), components)
    invocations_body = JsonBody(
        invocations_type(Record, settings.max_batch_size), components
    )
    records_adapter = TypeAdapter(list[Record])
    Prediction = prediction_model(schema)
    # The request middleware checks the key before a body is read.
    security = key_security(bool(settings.api_key))
    errors = prediction_errors(api_key=bool(settings.api_key))

    def post(path: str, response_model: Any, body: JsonBody):
        def add(endpoint):
            app.router.add_api_route(
                path,
                endpoint,
                methods=["POST"],
                response_model=response_model,
                responses=errors,
                openapi_extra={**body.openapi_extra, **security},
                route_class_override=DirectRoute,
            )
            return endpoint

        return add

    @post("/predict", single_response_model(Prediction), record_body)
    async def predict(request: Request) -> Response:
        """Predict one record."""
        state = await service_state(request)
        row = await record_body.read(request)
        items, version = await predict_rows(state, request, [row])
        return json_response({**items[0], "model_version": version})

    @post("/predict/batch", batch_response_model(Prediction), batch_body)
    async def predict_batch(request: Request) -> Response:
        """Predict up to SERVE_MAX_BATCH_SIZE records at once."""
        state = await service_state(request)
        rows = (await batch_body.read(request))["records"]
        items, version = await predict_rows(state, request, rows)
        return json_response({"model_version": version, "predictions": items})

    @post("/invocations", InvocationsResponse, invocations_body)
    async def invocations(request: Request) -> Response:
        """MLflow scoring-server compatible: dataframe_split, dataframe_records,
        instances or inputs; answers {"predictions": [...]}."""
        state = await service_state(request)
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
        items, _ = await predict_rows(state, request, rows)
        return json_response({"predictions": [item["prediction"] for item in items]})
