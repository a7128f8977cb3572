"""What the service holds while it runs: settings, schema, the model it
serves, its metrics and the prediction log. One per app, on
`app.state.service`; endpoints take it with the `ServiceStateDep` dependency."""

import gc
import logging
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from ..environment import ServeSettings
from ..errors import ProjectError
from ..paths import SHADOW_LOG_FOLDER
from ..schema import Schema
from .circuit_breaker import BreakerState, CircuitBreaker
from .observability import ServiceMetrics
from .prediction_log import PredictionLog
from .predictors import Predictor
from .served_model import ServedModel, load_served_model
from .shadow import Shadow

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
        self.shadow: Shadow | None = None
        # Why the shadow model (SERVE_SHADOW_MODEL_URI) does not run, if not.
        self.shadow_error: str | None = None
        self.model: ServedModel | None = None
        self.error: str | None = "model is loading"
        # Why the last version the service tried to switch to is not served.
        self.reload_error: str | None = None
        # Why the service cannot serve whatever model it loads.
        self.fatal: str | None = None

    def current_model(self) -> ServedModel:
        """The model, or 503 with the reason there is none. A request takes
        it once: a reload may swap in another before the request ends."""
        if self.model is None:
            raise HTTPException(503, detail=self.error)
        return self.model

    def ready(self) -> Predictor:
        """The predictor, or 503 with the reason there is none."""
        return self.current_model().predictor

    @property
    def predictor(self) -> Predictor | None:
        return self.model.predictor if self.model else None

    @property
    def metadata(self) -> dict[str, Any]:
        return self.model.metadata if self.model else {}

    @property
    def model_version(self) -> str:
        return self.model.version if self.model else ""

    def start(self) -> None:
        """Load the model, then start the prediction log (at app start-up)."""
        model = self._load()
        if self.prediction_log and not self._start_prediction_log(self.prediction_log):
            model = None
        # Exempt the start-up heap (libraries, model) from garbage collection:
        # full collections would otherwise rescan it while requests wait.
        gc.collect()
        gc.freeze()
        if model is not None:
            self.model = model
            self._describe(model)
            self._start_shadow()

    def swap(self, model: ServedModel) -> None:
        """Serve `model` from the next request on; requests in flight finish
        on the model they started with."""
        previous = self.model
        self.model, self.error, self.reload_error = model, None, None
        self.breaker.reset()  # a new model starts with a clean record
        self.metrics.model_info.clear()
        self._describe(model)
        was = previous.version if previous else None
        log.info(
            "model switched", extra={"fields": {"from_version": was, **model.metadata}}
        )

    def _describe(self, model: ServedModel) -> None:
        meta = model.metadata
        self.metrics.model_info.labels(
            meta.get("name", ""), meta.get("version", ""), meta["backend"]
        ).set(1)
        if not self.schema.is_classification and self.metrics.prediction_values is None:
            self.metrics.track_prediction_values(model.prediction_buckets)

    def _start_prediction_log(self, prediction_log: PredictionLog) -> bool:
        """Without its log the service would answer and monitoring would see
        nothing: it stays not ready (503) and says why."""
        try:
            prediction_log.start()
        except OSError as error:
            reason = error.strerror or str(error)
            self.error = (
                f"prediction log directory {prediction_log.directory} "
                f"cannot be used: {reason} (SERVE_PREDICTION_LOG_DIR)"
            )
            log.error(self.error)
            self.fatal = self.error
            return False
        return True

    def _breaker_changed(self, state: BreakerState) -> None:
        self.metrics.breaker_state.set(state)
        if state is BreakerState.OPEN:
            log.error("%s", self.breaker.open_reason())
        else:
            log.info("model circuit %s", state.name.lower().replace("_", " "))

    def _start_shadow(self) -> None:
        """The challenger beside the champion, when one is set. It is
        optional: when it cannot run, the service serves without it and
        /metadata says why."""
        uri = self.settings.shadow_model_uri
        if uri is None:
            return
        if self.prediction_log is None:
            self.shadow_error = (
                "shadow mode needs the prediction log (SERVE_PREDICTION_LOG_DIR)"
            )
            log.error(self.shadow_error)
            return
        try:
            model = load_served_model(uri, self.schema, self.settings.backend)
            shadow_log = self._shadow_log()
            shadow_log.start()
        except (ProjectError, ValueError, OSError) as error:
            self.shadow_error = f"shadow model {uri} not running: {error}"
            log.error(self.shadow_error)
            return
        self.shadow = Shadow(
            model,
            shadow_log,
            capacity=self.settings.shadow_queue,
            max_rows=self.settings.max_batch_size,
            count=lambda outcome, rows: self.metrics.shadow_rows.labels(outcome).inc(
                rows
            ),
        )
        self.shadow.start()
        log.info("shadow model ready", extra={"fields": model.metadata})

    def _shadow_log(self) -> PredictionLog:
        assert self.prediction_log is not None  # checked by _start_shadow
        return PredictionLog(
            self.prediction_log.directory / SHADOW_LOG_FOLDER,
            self.settings.prediction_log_queue,
            self.schema.feature_names,
            on_drop=self.metrics.dropped_logs.inc,
            max_bytes=self.settings.prediction_log_max_bytes,
        )

    def shadow_description(self) -> dict[str, Any] | None:
        """What /metadata says of the shadow: its model, or why it is not running."""
        if self.shadow:
            meta = self.shadow.model.metadata
            keys = ("uri", "name", "version", "alias", "backend", "run_id")
            return {key: meta[key] for key in keys if key in meta}
        if self.shadow_error:
            return {"uri": self.settings.shadow_model_uri, "error": self.shadow_error}
        return None

    def stop(self) -> None:
        if self.shadow:
            self.shadow.close()  # its last predictions reach its log
            self.shadow.prediction_log.close()
        if self.prediction_log:
            self.prediction_log.close()  # every queued prediction reaches the log

    def _load(self) -> ServedModel | None:
        uri, backend, schema = self.model_uri, self.settings.backend, self.schema
        try:
            model = load_served_model(uri, schema, backend)
        except (ProjectError, ValueError, OSError) as error:
            self.error = f"model {uri} not loaded: {error}"
            log.error(self.error)
            return None
        log.info("model ready", extra={"fields": model.metadata})
        return model


async def service_state(request: Request) -> ServiceState:
    """The dependency that gives an endpoint the service's state."""
    return request.app.state.service


ServiceStateDep = Annotated[ServiceState, Depends(service_state)]
