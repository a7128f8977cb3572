"""Turn validated records into predictions: ONNX Runtime when the pipeline
converts, scikit-learn otherwise.

Both take a list of plain dicts (one per row, keyed by feature name) and
return the predictions and, for classifiers, one probability per class.
"""

import logging
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ..features import MISSING_CATEGORY, model_input
from ..schema import Schema

log = logging.getLogger(__name__)

# ONNX computes in float32: probabilities may differ from scikit-learn's by
# about 1e-2 on forests; larger differences mean a wrong conversion.
PARITY_TOLERANCE = 0.05


@dataclass
class Predictions:
    labels: list[Any]
    probabilities: list[dict[str, float]] | None


class Predictor(Protocol):
    backend: str

    def predict(self, records: list[dict[str, Any]]) -> Predictions: ...


def _probabilities(matrix: np.ndarray, classes: list[Any]) -> list[dict[str, float]]:
    names = [str(label) for label in classes]
    return [dict(zip(names, row, strict=True)) for row in matrix.tolist()]


def _plain(values: np.ndarray) -> list[Any]:
    """numpy scalars to JSON-ready Python values."""
    return values.tolist()


class SklearnPredictor:
    backend = "sklearn"

    def __init__(self, model, schema: Schema):
        # Per-request thread pools (n_jobs=-1) cost more than they save.
        if "model__n_jobs" in model.get_params():
            model.set_params(model__n_jobs=1)
        self.model, self.schema = model, schema
        self.classes = list(getattr(model, "classes_", []))

    def predict(self, records: list[dict[str, Any]]) -> Predictions:
        frame = pd.DataFrame.from_records(records, columns=self.schema.feature_names)
        features = model_input(frame, self.schema)
        labels = _plain(self.model.predict(features))
        if not self.schema.is_classification:
            return Predictions(labels, None)
        matrix = self.model.predict_proba(features)
        return Predictions(labels, _probabilities(matrix, self.classes))


class OnnxPredictor:
    """The same pipeline compiled to ONNX: no pandas, no per-row Python loops
    beyond building one array per feature."""

    backend = "onnx"

    def __init__(self, session, schema: Schema, classes: list[Any]):
        self.session, self.schema, self.classes = session, schema, classes
        self.outputs = [output.name for output in session.get_outputs()]

    def _feed(self, records: list[dict[str, Any]]) -> dict[str, np.ndarray]:
        feed = {}
        for feature in self.schema.features:
            values = [record.get(feature.name) for record in records]
            if feature.type == "categorical":
                column = np.array(
                    [MISSING_CATEGORY if v is None else v for v in values], dtype=object
                )
            else:  # numpy turns None into NaN and booleans into 0/1
                column = np.array(values, dtype=np.float32)
            feed[feature.name] = column.reshape(-1, 1)
        return feed

    def predict(self, records: list[dict[str, Any]]) -> Predictions:
        results = self.session.run(None, self._feed(records))
        if not self.schema.is_classification:
            return Predictions(_plain(results[0].ravel().astype(np.float64)), None)
        labels, matrix = results[0], results[1]
        return Predictions(_plain(labels.ravel()), _probabilities(matrix, self.classes))


def to_onnx(model, schema: Schema):
    """Compile the fitted pipeline to an ONNX Runtime session (raises if it cannot)."""
    import onnxruntime
    from skl2onnx import to_onnx as convert
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    inputs = [
        (
            feature.name,
            StringTensorType([None, 1])
            if feature.type == "categorical"
            else FloatTensorType([None, 1]),
        )
        for feature in schema.features
    ]
    # zipmap off: class probabilities as one matrix, not a list of dicts.
    zipmap = {id(model): {"zipmap": False}} if schema.is_classification else None
    onnx_model = convert(model, initial_types=inputs, options=zipmap)
    session_options = onnxruntime.SessionOptions()
    # One thread per session, no spinning: a service runs one session per
    # worker process, and idle spinning threads steal CPU from the others.
    session_options.intra_op_num_threads = 1
    session_options.inter_op_num_threads = 1
    session_options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(
        onnx_model.SerializeToString(),
        session_options,
        providers=["CPUExecutionProvider"],
    )


def parity_gap(fast: Predictor, reference: Predictor, records: list[dict]) -> float:
    """Largest difference between two predictors on the same records."""
    a, b = fast.predict(records), reference.predict(records)
    if a.probabilities is None:
        scale = max(1.0, float(np.max(np.abs(b.labels))))
        return float(np.max(np.abs(np.subtract(a.labels, b.labels)))) / scale
    keys = list(b.probabilities[0])
    left = np.array([[row[k] for k in keys] for row in a.probabilities])
    right = np.array([[row[k] for k in keys] for row in b.probabilities])
    return float(np.max(np.abs(left - right)))


def build_predictor(model, schema: Schema, backend: str, check_records: list[dict]):
    """The fastest predictor that agrees with scikit-learn on `check_records`."""
    reference = SklearnPredictor(model, schema)
    if backend == "sklearn":
        return reference
    try:
        fast = OnnxPredictor(to_onnx(model, schema), schema, reference.classes)
        gap = parity_gap(fast, reference, check_records)
    except Exception as error:  # skl2onnx raises many types for unsupported models
        if backend == "onnx":
            raise ValueError(f"ONNX conversion failed: {error}") from error
        log.warning("ONNX conversion failed, serving with scikit-learn: %s", error)
        return reference
    if gap > PARITY_TOLERANCE:
        if backend == "onnx":
            raise ValueError(f"ONNX predictions differ from scikit-learn by {gap:.4f}")
        log.warning(
            "ONNX differs from scikit-learn by %.4f; serving with scikit-learn", gap
        )
        return reference
    log.info("serving with ONNX Runtime (max difference from scikit-learn %.5f)", gap)
    return fast
