"""Settings from environment variables, the only place they are read.

Four groups: SERVE_* (the service; `simulate-drift` and `monitor` use the
API key and the prediction log directory too), MLFLOW_TRACKING_URI (tracking),
MONITOR_* (the monitor) and GITHUB_ACTOR (who promotes by hand in CI).
Commands and the service read a group once with `<Group>.read()` and pass the
values down. params.yaml (settings.py) holds
what is versioned with the model; these hold what differs between machines.
"""

from pathlib import Path
from typing import Literal, Self

from pydantic import (
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ProjectError
from .paths import PREDICTION_LOG_DIR

# Half the 1 GiB log volume of the Kubernetes manifests: a full volume gets
# the pod evicted.
PREDICTION_LOG_MAX_BYTES = 512 * 1024 * 1024

Backend = Literal["auto", "onnx", "sklearn"]


def _empty_is_none(value: object) -> object:
    return None if value == "" else value


class EnvironmentSettings(BaseSettings):
    @classmethod
    def read(cls) -> Self:
        """The group's settings from the environment; a bad value is a
        ProjectError naming the variable."""
        try:
            return cls()
        except ValidationError as error:
            raise ProjectError("; ".join(_problems(cls, error))) from None


class ServeSettings(EnvironmentSettings):
    """The service's settings (SERVE_<FIELD>)."""

    model_config = SettingsConfigDict(env_prefix="SERVE_", frozen=True)

    # None: the registry champion of the model named in params.yaml.
    model_uri: str | None = None
    backend: Backend = "auto"
    max_batch_size: PositiveInt = 1000
    max_body_bytes: PositiveInt = 2 * 1024 * 1024
    # A request head (line and headers) larger than this gets 431.
    max_header_bytes: PositiveInt = 64 * 1024
    # A connection idle, or still sending its request head, this long is closed.
    idle_timeout_seconds: PositiveFloat = 5
    # A request body not received in full this long after it starts gets 408.
    body_timeout_seconds: PositiveFloat = 30
    # A prediction not done this long after it starts gets 503 and counts as
    # failed; batches and scikit-learn (in a thread) are abandoned then.
    prediction_timeout_seconds: PositiveFloat = 5
    # Failed or timed-out predictions in a row that open the model's circuit
    # (503 with Retry-After, without calling the model); 0: it never opens.
    breaker_failures: NonNegativeInt = 5
    # How long the circuit stays open before one trial prediction.
    breaker_cooldown_seconds: PositiveFloat = 30
    # How often a service of a registry alias (models:/<name>@<alias>) looks
    # up the version it points at and switches to it; 0: never.
    reload_seconds: NonNegativeFloat = 60
    # None (an empty value) turns prediction logging off.
    prediction_log_dir: Path | None = PREDICTION_LOG_DIR
    prediction_log_queue: PositiveInt = 100_000
    # What the log's files may take on disk; the oldest hours go first.
    prediction_log_max_bytes: PositiveInt = PREDICTION_LOG_MAX_BYTES
    api_key: str | None = None
    # A second model (e.g. models:/<name>@challenger) that scores every
    # request off the request path, logged for the monitor; None: off.
    shadow_model_uri: str | None = None
    # Requests waiting for the shadow model; beyond, they are not shadowed.
    shadow_queue: PositiveInt = 10_000

    _empty = field_validator(
        "model_uri", "prediction_log_dir", "api_key", "shadow_model_uri", mode="before"
    )(_empty_is_none)


class TrackingSettings(EnvironmentSettings):
    """Where MLflow tracks and registers; None: the local SQLite store."""

    model_config = SettingsConfigDict(frozen=True)

    uri: str | None = Field(None, validation_alias="MLFLOW_TRACKING_URI")

    _empty = field_validator("uri", mode="before")(_empty_is_none)


class MonitorSettings(EnvironmentSettings):
    """The monitor's settings (MONITOR_<FIELD>)."""

    model_config = SettingsConfigDict(env_prefix="MONITOR_", frozen=True)

    # host:port or a URL; None: the verdict is not pushed.
    pushgateway_url: str | None = None

    _empty = field_validator("pushgateway_url", mode="before")(_empty_is_none)


class ApprovalSettings(EnvironmentSettings):
    """Who promotes or rolls back by hand, when GitHub Actions runs it."""

    model_config = SettingsConfigDict(frozen=True)

    github_actor: str | None = Field(None, validation_alias="GITHUB_ACTOR")

    _empty = field_validator("github_actor", mode="before")(_empty_is_none)


def _problems(group: type[BaseSettings], error: ValidationError) -> list[str]:
    prefix = group.model_config.get("env_prefix", "")
    problems = []
    for problem in error.errors():
        name = str(problem["loc"][0])
        field = group.model_fields.get(name)
        variable = name if field is None else prefix + name.upper()
        if field is not None and isinstance(field.validation_alias, str):
            variable = field.validation_alias
        problems.append(f"{variable}: {problem['msg']}, got {problem['input']!r}")
    return problems
