"""What the service holds while it runs: settings, schema, the loaded model,
its metrics and the prediction log. One per app, on `app.state.service`;
endpoints take it with the `ServiceStateDep` dependency."""

import gc
import logging
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from ..environment import ServeSettings
from ..errors import ProjectError
from ..schema import Schema
from . import model_source
from .circuit_breaker import BreakerState, CircuitBreaker
from .observability import ServiceMetrics
from .prediction_log import PredictionLog
from .predictors import Predictor, build_predictor

log = logging.getLogger("service")


class ServiceState:
    def __init__(self, settings: ServeSettings, schema: Schema, model_uri: str):
        self.settings = settings
        self.schema = schema
        self.model_uri = model_uri
        self.metrics = ServiceMetrics()
        self.prediction_log = (
            PredictionLog(
                settings.prediction_log_dir,
                settings.prediction_log_queue,
                schema.feature_names,
                on_drop=self.metrics.dropped_logs.inc,
                max_bytes=settings.prediction_log_max_bytes,
            )
            if settings.prediction_log_dir
            else None
        )
        self.breaker = CircuitBreaker(
            settings.breaker_failures,
            settings.breaker_cooldown_seconds,
            on_change=self._breaker_changed,
        )
        self.predictor: Predictor | None = None
        self.metadata: dict[str, Any] = {}
        self.error: str | None = "model is loading"

    @property
    def model_version(self) -> str:
        return str(self.metadata.get("version", ""))

    def ready(self) -> Predictor:
        """The predictor, or 503 with the reason there is none."""
        if self.predictor is None:
            raise HTTPException(503, detail=self.error)
        return self.predictor

    def start(self) -> None:
        """Load the model, then start the prediction log (at app start-up)."""
        buckets = self._load()
        if self.prediction_log:
            self._start_prediction_log(self.prediction_log)
        # Exempt the start-up heap (libraries, model) from garbage collection:
        # full collections would otherwise rescan it while requests wait.
        gc.collect()
        gc.freeze()
        if self.predictor is not None:
            meta = self.metadata
            self.metrics.model_info.labels(
                meta.get("name", ""), meta.get("version", ""), meta["backend"]
            ).set(1)
            if not self.schema.is_classification:
                self.metrics.track_prediction_values(buckets)

    def _start_prediction_log(self, prediction_log: PredictionLog) -> None:
        """Without its log the service would answer and monitoring would see
        nothing: it stays not ready (503) and says why."""
        try:
            prediction_log.start()
        except OSError as error:
            reason = error.strerror or str(error)
            self.predictor = None
            self.error = (
                f"prediction log directory {prediction_log.directory} "
                f"cannot be used: {reason} (SERVE_PREDICTION_LOG_DIR)"
            )
            log.error(self.error)

    def _breaker_changed(self, state: BreakerState) -> None:
        self.metrics.breaker_state.set(state)
        if state is BreakerState.OPEN:
            log.error("%s", self.breaker.open_reason())
        else:
            log.info("model circuit %s", state.name.lower().replace("_", " "))

    def stop(self) -> None:
        if self.prediction_log:
            self.prediction_log.close()  # every queued prediction reaches the log

    def _load(self) -> list[float] | None:
        """Load and warm up the model; returns its prediction histogram buckets."""
        uri, backend, schema = self.model_uri, self.settings.backend, self.schema
        try:
            loaded = model_source.load(uri)
            predictor = build_predictor(loaded.model, schema, backend, loaded.example)
            if loaded.example:
                predictor.predict(loaded.example)  # warm up before reporting ready
        except (ProjectError, ValueError, OSError) as error:
            self.error = f"model {uri} not loaded: {error}"
            log.error(self.error)
            return None
        self.predictor, self.error = predictor, None
        self.metadata = {**loaded.metadata, "backend": predictor.backend}
        if reason := getattr(predictor, "onnx_unavailable", None):
            self.metadata["onnx_unavailable"] = reason  # shown by /metadata
        log.info("model ready", extra={"fields": self.metadata})
        return loaded.prediction_buckets


async def service_state(request: Request) -> ServiceState:
    """The dependency that gives an endpoint the service's state."""
    return request.app.state.service


ServiceStateDep = Annotated[ServiceState, Depends(service_state)]
