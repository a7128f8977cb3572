"""A model ready to serve: loaded, made a predictor, warmed up, with what
describes it. The service swaps one in whole (reload.py), so a request sees
one model's predictor and version, never a mix of two."""

import logging
from dataclasses import dataclass, field
from typing import Any

from ..errors import ProjectError
from ..schema import Schema
from . import model_source
from .predictors import OnnxPredictor, Predictor

log = logging.getLogger(__name__)


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
    predictor: Predictor
    exported = model_source.read_export(model_uri)
    if exported and exported.onnx and backend != "sklearn":
        predictor = OnnxPredictor(exported.onnx, schema, exported.class_names)
        own = {**exported.metadata, "onnx_parity_gap": exported.parity_gap}
        example, buckets = exported.example, exported.prediction_buckets
        log.info("serving the ONNX model that export-model converted and checked")
    else:  # a registry model, or an export without ONNX: convert it here
        try:
            from .conversion import build_predictor  # scikit-learn, skl2onnx

            loaded = model_source.load(model_uri)
        except ImportError as error:  # the image's environment (README, Serving)
            missing = (error.name or str(error)).partition(".")[0]
            raise ProjectError(
                f"{model_uri} needs {missing!r} to serve, which is not "
                "installed: this environment serves only the ONNX model that "
                "export-model writes (README, Serving)"
            ) from error
        predictor = build_predictor(loaded.model, schema, backend, loaded.example)
        own, example = loaded.metadata, loaded.example
        buckets = loaded.prediction_buckets
    if example:
        predictor.predict(example)  # warm up before it answers anyone
    described = {**own, **metadata, "backend": predictor.backend}
    if reason := getattr(predictor, "onnx_unavailable", None):
        described["onnx_unavailable"] = reason  # shown by /metadata
    return ServedModel(predictor, described, buckets)
