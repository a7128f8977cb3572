"""Service settings, read once from SERVE_* environment variables."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from ..errors import ProjectError
from ..paths import PREDICTION_LOG_DIR

Backend = Literal["auto", "onnx", "sklearn"]
BACKENDS = get_args(Backend)


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ProjectError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ProjectError(f"{name} must be positive, got {value}")
    return value


@dataclass(frozen=True)
class ServiceSettings:
    model_uri: str | None
    backend: Backend
    max_batch_size: int
    max_body_bytes: int
    prediction_log_dir: Path | None
    prediction_log_queue: int
    api_key: str | None

    @classmethod
    def from_env(cls) -> "ServiceSettings":
        backend = os.environ.get("SERVE_BACKEND", "auto")
        if backend not in BACKENDS:
            raise ProjectError(
                f"SERVE_BACKEND must be one of {BACKENDS}, got {backend!r}"
            )
        log_dir = os.environ.get("SERVE_PREDICTION_LOG_DIR", str(PREDICTION_LOG_DIR))
        return cls(
            # None: the registry champion of the model named in params.yaml.
            model_uri=os.environ.get("SERVE_MODEL_URI") or None,
            backend=backend,
            max_batch_size=_int("SERVE_MAX_BATCH_SIZE", 1000),
            max_body_bytes=_int("SERVE_MAX_BODY_BYTES", 2 * 1024 * 1024),
            # An empty value turns prediction logging off.
            prediction_log_dir=Path(log_dir) if log_dir else None,
            prediction_log_queue=_int("SERVE_PREDICTION_LOG_QUEUE", 100_000),
            api_key=os.environ.get("SERVE_API_KEY") or None,
        )
