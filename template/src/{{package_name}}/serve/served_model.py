"""A model ready to serve: loaded, made a predictor, warmed up, with what
describes it. The service swaps one in whole (reload.py), so a request sees
one model's predictor and version, never a mix of two."""

from dataclasses import dataclass, field
from typing import Any

from ..schema import Schema
from . import model_source
from .predictors import Predictor, build_predictor


@dataclass(frozen=True)
class ServedModel:
    predictor: Predictor
    metadata: dict[str, Any] = field(default_factory=dict)
    # Regression: edges for the prediction histogram, when saved with the model.
    prediction_buckets: list[float] | None = None

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", ""))


def load_served_model(
    model_uri: str, schema: Schema, backend: str, **metadata: Any
) -> ServedModel:
    """Load, convert and warm up the model; `metadata` is added to its own.
    Raises ProjectError, ValueError or OSError with the reason it cannot."""
    loaded = model_source.load(model_uri)
    predictor = build_predictor(loaded.model, schema, backend, loaded.example)
    if loaded.example:
        predictor.predict(loaded.example)  # warm up before it answers anyone
    described = {**loaded.metadata, **metadata, "backend": predictor.backend}
    if reason := getattr(predictor, "onnx_unavailable", None):
        described["onnx_unavailable"] = reason  # shown by /metadata
    return ServedModel(predictor, described, loaded.prediction_buckets)
