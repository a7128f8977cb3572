"""Turn validated records into predictions with ONNX Runtime.

A predictor takes a list of plain dicts (one per row, keyed by feature name)
and returns the predictions and, for classifiers, one probability per class.
This module needs only numpy and ONNX Runtime, so a service started on an
exported model (`export-model` writes model.onnx) imports neither
scikit-learn nor MLflow; conversion.py makes the ONNX model and holds the
scikit-learn predictor.
"""

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..schema import MISSING_CATEGORY, Schema


@dataclass
class Predictions:
    labels: list[Any]
    probabilities: list[dict[str, float]] | None

    def items(self) -> list[dict[str, Any]]:
        """One answer per row: its prediction and, for classifiers, its
        probabilities, as the service returns and logs them."""
        items: list[dict[str, Any]] = [{"prediction": label} for label in self.labels]
        if self.probabilities is not None:
            for item, probabilities in zip(items, self.probabilities, strict=True):
                item["probabilities"] = probabilities
        return items


class Predictor(Protocol):
    backend: str

    def predict(self, records: list[dict[str, Any]]) -> Predictions: ...


def probabilities(matrix: np.ndarray, names: list[str]) -> list[dict[str, float]]:
    """One {class name: probability} per row; the matrix has a column per class."""
    return [dict(zip(names, row, strict=True)) for row in matrix.tolist()]


def plain(values: np.ndarray) -> list[Any]:
    """numpy scalars to JSON-ready Python values."""
    return values.tolist()


@dataclass(frozen=True)
class InputGroup:
    """One input of the ONNX model: a matrix whose columns are features."""

    name: str
    features: list[str]
    strings: bool  # categorical features (strings), else numbers as float32


def input_groups(schema: Schema) -> list[InputGroup]:
    """Two inputs, numbers and strings, rather than one per feature: ONNX
    Runtime's cost per run grows by about 2 us per input, which on one row is
    more than a 200-tree forest costs."""
    taken = set(schema.feature_names)
    groups = []
    for name, strings in (("numbers", False), ("strings", True)):
        features = [
            f.name for f in schema.features if (f.type == "categorical") == strings
        ]
        while name in taken:  # never the name of a feature
            name = f"_{name}"
        if features:
            groups.append(InputGroup(name, features, strings))
    return groups


class OnnxPredictor:
    """The same pipeline compiled to ONNX: no pandas, and per request one
    array per input group built from the records."""

    backend = "onnx"

    def __init__(self, serialized: bytes, schema: Schema, classes: list[Any]):
        self.serialized, self.schema = serialized, schema
        self.session = onnx_session(serialized)
        self.class_names = [str(label) for label in classes]
        self.groups = input_groups(schema)
        self.outputs = [output.name for output in self.session.get_outputs()]

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (batch scoring on Spark ships it to the executors): the
        compiled model travels, its session is made again on arrival."""
        return {k: v for k, v in self.__dict__.items() if k != "session"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, session=onnx_session(state["serialized"]))

    def _feed(self, records: list[dict[str, Any]]) -> dict[str, np.ndarray]:
        feed = {}
        for group in self.groups:
            if group.strings:
                values = [
                    MISSING_CATEGORY if (value := record.get(name)) is None else value
                    for record in records
                    for name in group.features
                ]
                matrix = np.array(values, dtype=object)
            else:  # numpy turns None into NaN and booleans into 0/1
                values = [
                    record.get(name) for record in records for name in group.features
                ]
                matrix = np.array(values, dtype=np.float32)
            feed[group.name] = matrix.reshape(len(records), len(group.features))
        return feed

    def predict(self, records: list[dict[str, Any]]) -> Predictions:
        results = self.session.run(self.outputs, self._feed(records))
        if not self.schema.is_classification:
            return Predictions(plain(results[0].ravel().astype(np.float64)), None)
        labels, matrix = results[0], results[1]
        return Predictions(
            plain(labels.ravel()), probabilities(matrix, self.class_names)
        )


def onnx_session(serialized: bytes):
    """An ONNX Runtime session for a model that to_onnx compiled."""
    import onnxruntime

    session_options = onnxruntime.SessionOptions()
    # One thread per session, no spinning: a service runs one session per
    # worker process, and idle spinning threads steal CPU from the others.
    session_options.intra_op_num_threads = 1
    session_options.inter_op_num_threads = 1
    session_options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(
        serialized,
        session_options,
        providers=["CPUExecutionProvider"],
    )
