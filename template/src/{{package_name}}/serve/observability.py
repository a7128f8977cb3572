"""Structured JSON logs, Prometheus metrics, and the request middleware that
feeds both (request id, API key, body size limit, content type, timing)."""

import asyncio
import collections
import json
import logging
import secrets
import time
import uuid
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.requests import ClientDisconnect

log = logging.getLogger("service")

API_KEY_HEADER = "X-API-Key"
# nginx's code for a client that closed the connection before the answer:
# not a server error, so error-rate alerts do not fire on client timeouts.
CLIENT_CLOSED_REQUEST = 499

LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields come from `extra={"fields": {...}}`."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,  # which worker, with --workers
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def log_config(level: str = "INFO") -> dict:
    """JSON lines on stderr for every logger, uvicorn's included, as a
    logging.config dictionary: uvicorn applies it in each worker process it
    starts, which inherit no logging set up in the parent."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
    }


class ServiceMetrics:
    """The service's metrics, in a registry of its own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by endpoint, method and status",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by endpoint",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "predictions_total",
            "Predicted rows by predicted class ('value' for regression)",
            ["prediction"],
            registry=self.registry,
        )
        self.prediction_values: Histogram | None = None  # see track_prediction_values
        self.dropped_logs = Counter(
            "prediction_log_dropped_total",
            "Prediction log records dropped (queue full or write error)",
            registry=self.registry,
        )
        self.shadow_rows = Counter(
            "shadow_rows_total",
            "Rows sent to the shadow model, by outcome: predicted (logged), "
            "dropped (its queue was full) or failed (it raised)",
            ["outcome"],
            registry=self.registry,
        )
        self.prediction_failures = Counter(
            "prediction_failures_total",
            "Predictions that raised an error or timed out, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.breaker_state = Gauge(
            "circuit_breaker_state",
            "The model's circuit: 0 closed, 1 open (503s), 2 half open (a trial)",
            registry=self.registry,
        )
        self.model_info = Gauge(
            "model_info",
            "The model being served (value 1)",
            ["name", "version", "backend"],
            registry=self.registry,
        )
        self._per_class: dict = {}

    def track_prediction_values(self, buckets: list[float] | None) -> None:
        """The histogram of regression predictions, once the model is loaded:
        bucketed at the edges saved with it (from its training target), or at
        prometheus_client's defaults for a model saved without them."""
        self.prediction_values = Histogram(
            "prediction_value",
            "Distribution of regression predictions",
            buckets=buckets or Histogram.DEFAULT_BUCKETS,
            registry=self.registry,
        )

    def _predicted(self, label) -> Counter:
        """The count of one predicted class ("value" for regression), kept:
        labels() locks and looks up on every call."""
        counter = self._per_class.get(label)
        if counter is None:
            counter = self._per_class[label] = self.predictions.labels(str(label))
        return counter

    def observe_predictions(self, labels: list, classification: bool) -> None:
        if classification:
            # One row, the common case, needs no Counter.
            counts = {labels[0]: 1} if len(labels) == 1 else collections.Counter(labels)
            for label, count in counts.items():
                self._predicted(label).inc(count)
            return
        self._predicted("value").inc(len(labels))
        histogram = self.prediction_values
        assert histogram is not None  # tracked once a regression model loads
        for value in labels:
            histogram.observe(value)


async def _send_json(
    send, status: int, body: dict, request_id: str, close: bool = False
) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"x-request-id", request_id.encode()),
    ]
    if close:  # the rest of the body may still come: not a request boundary
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class _BodyTooLarge(Exception):
    pass


class _BodyTooSlow(Exception):
    pass


class RequestMiddleware:
    """Pure ASGI (no per-request task or body copy): gives each request an id,
    refuses a missing or wrong API key and oversized or non-JSON bodies, and
    records metrics and an access log."""

    def __init__(
        self,
        app,
        metrics: ServiceMetrics,
        max_body_bytes: int,
        json_paths: set[str],
        guarded_paths: set[str],
        api_key: str | None,
        body_timeout: float,
    ):
        self.app, self.metrics, self.max_body_bytes = app, metrics, max_body_bytes
        self.body_timeout = body_timeout  # seconds for a whole request body
        self.json_paths = json_paths  # POST endpoints that take a JSON body
        self.guarded_paths = guarded_paths  # what needs the API key, if one is set
        self.api_key = api_key.encode() if api_key else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64]
        request_id = request_id or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        response_started = False

        async def send_with_id(message):
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        received = 0
        deadline = None
        body_done = False

        async def limited_receive():
            nonlocal received, deadline, body_done
            if body_done:  # e.g. waiting for a disconnect: no deadline
                return await receive()
            loop = asyncio.get_running_loop()
            deadline = deadline or loop.time() + self.body_timeout
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise _BodyTooSlow from None
            body_done = not message.get("more_body", False)
            received += len(message.get("body", b""))
            if received > self.max_body_bytes:
                raise _BodyTooLarge
            return message

        refusal = None
        if scope["path"] in self.guarded_paths:
            refusal = self._key_refusal(headers)
        if (
            not refusal
            and scope["method"] == "POST"
            and scope["path"] in self.json_paths
        ):
            refusal = self._body_refusal(headers)
        try:
            if refusal:
                await _send_json(send_with_id, *refusal, request_id)
            else:
                await self.app(scope, limited_receive, send_with_id)
        except _BodyTooLarge:
            if not response_started:
                await _send_json(send_with_id, *self._too_large(), request_id)
        except _BodyTooSlow:
            if not response_started:
                detail = f"request body not received within {self.body_timeout:g} s"
                await _send_json(
                    send_with_id, 408, {"detail": detail}, request_id, True
                )
        except ClientDisconnect:
            status = CLIENT_CLOSED_REQUEST  # nobody is left to answer
        finally:
            self._record(scope, status, started, request_id)

    def _too_large(self) -> tuple[int, dict]:
        return 413, {"detail": f"request body larger than {self.max_body_bytes} bytes"}

    def _key_refusal(self, headers: dict) -> tuple[int, dict] | None:
        if self.api_key and not secrets.compare_digest(
            headers.get(API_KEY_HEADER.lower().encode(), b""), self.api_key
        ):
            return 401, {"detail": f"missing or wrong {API_KEY_HEADER} header"}
        return None

    def _body_refusal(self, headers: dict) -> tuple[int, dict] | None:
        length = headers.get(b"content-length")
        if length and length.isdigit() and int(length) > self.max_body_bytes:
            return self._too_large()
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if content_type != b"application/json":
            return 415, {"detail": "send JSON (Content-Type: application/json)"}
        return None

    def _record(self, scope, status: int, started: float, request_id: str) -> None:
        elapsed = time.perf_counter() - started
        route = scope.get("route")
        endpoint = getattr(route, "path", "unmatched")
        self.metrics.requests.labels(endpoint, scope["method"], str(status)).inc()
        self.metrics.latency.labels(endpoint).observe(elapsed)
        if endpoint != "/metrics":
            log.info(
                "request",
                extra={
                    "fields": {
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 3),
                    }
                },
            )
