"""The service's error answers: the handlers that write them and their
description in the OpenAPI document."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .circuit_breaker import CircuitOpen, PredictionTimeout

log = logging.getLogger("service")

# OpenAPI `responses` entries: status code -> its description.
Responses = dict[int | str, dict[str, Any]]

NOT_READY: Responses = {503: {"description": "model not loaded"}}
MODEL_UNAVAILABLE = (
    "model not loaded; or its circuit open after failed predictions (with "
    "Retry-After); or no prediction within SERVE_PREDICTION_TIMEOUT_SECONDS"
)
WRONG_KEY = "missing or wrong X-API-Key"


def key_errors(api_key: bool) -> Responses:
    """The request middleware's 401, on an endpoint it guards with a key."""
    return {401: {"description": WRONG_KEY}} if api_key else {}


def key_security(api_key: bool) -> dict[str, Any]:
    """The key's OpenAPI requirement, declared only when one is set, so the
    document tells the truth."""
    return {"security": [{"APIKey": []}]} if api_key else {}


def prediction_errors(api_key: bool) -> Responses:
    """The error answers of an endpoint that takes a JSON body (the request
    middleware gives 400, 401, 413 and 415; validation 422)."""
    errors: dict[int | str, str] = {
        400: "body is not valid JSON text",
        **({401: WRONG_KEY} if api_key else {}),
        413: "body larger than SERVE_MAX_BODY_BYTES",
        415: "body is not JSON",
        422: "the body does not match the schema (each field and problem named)",
        503: MODEL_UNAVAILABLE,
    }
    return {code: {"description": text} for code, text in errors.items()}


async def invalid_request(
    request: Request, error: RequestValidationError
) -> JSONResponse:
    # Location, message and type only: echoing the input back could be
    # large, and NaN or Infinity inputs cannot be written as JSON.
    detail = [
        {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
        for e in error.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


def _request_id(request: Request) -> str | None:
    """The id the request middleware gave it (None before it got one)."""
    return request.scope.get("state", {}).get("request_id")


async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
    request_id = _request_id(request)
    log.exception("unhandled error", extra={"fields": {"request_id": request_id}})
    body = {"detail": "internal error", "request_id": request_id}
    return JSONResponse(body, status_code=500)


async def circuit_open(request: Request, error: CircuitOpen) -> JSONResponse:
    headers = {"Retry-After": str(error.retry_after)}
    return JSONResponse({"detail": error.reason}, status_code=503, headers=headers)


async def prediction_timeout(
    request: Request, error: PredictionTimeout
) -> JSONResponse:
    fields = {"request_id": _request_id(request)}
    log.warning("prediction timed out: %s", error, extra={"fields": fields})
    return JSONResponse({"detail": str(error)}, status_code=503)


def install_error_handlers(app: FastAPI) -> None:
    app.exception_handler(RequestValidationError)(invalid_request)
    app.exception_handler(CircuitOpen)(circuit_open)
    app.exception_handler(PredictionTimeout)(prediction_timeout)
    app.exception_handler(Exception)(unexpected_error)
