"""Turn validated records into predictions: ONNX Runtime when the pipeline
converts, scikit-learn otherwise.

Both take a list of plain dicts (one per row, keyed by feature name) and
return the predictions and, for classifiers, one probability per class.
"""

import copy
import logging
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer

from ..features import MISSING_CATEGORY, model_input
from ..schema import Schema
from .onnx_converters import ML_OPSET, register_converters

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


def _probabilities(matrix: np.ndarray, names: list[str]) -> list[dict[str, float]]:
    """One {class name: probability} per row; the matrix has a column per class."""
    return [dict(zip(names, row, strict=True)) for row in matrix.tolist()]


def _plain(values: np.ndarray) -> list[Any]:
    """numpy scalars to JSON-ready Python values."""
    return values.tolist()


class SklearnPredictor:
    backend = "sklearn"
    # Why the ONNX fast path is not used, when it was tried and failed.
    onnx_unavailable: str | None = None

    def __init__(self, model, schema: Schema):
        # Per-request thread pools (n_jobs=-1) cost more than they save; train
        # sets n_jobs=1 itself now, models registered before did not.
        if "model__n_jobs" in model.get_params():
            model.set_params(model__n_jobs=1)
        self.model, self.schema = model, schema
        self.classes = list(getattr(model, "classes_", []))
        self.class_names = [str(label) for label in self.classes]

    def predict(self, records: list[dict[str, Any]]) -> Predictions:
        frame = pd.DataFrame.from_records(records, columns=self.schema.feature_names)
        features = model_input(frame, self.schema)
        if not self.schema.is_classification:
            return Predictions(_plain(self.model.predict(features)), None)
        # The label is the most probable class (as each family's own predict
        # decides it): one pass of the model, not predict and predict_proba.
        matrix = self.model.predict_proba(features)
        labels = _plain(np.asarray(self.classes)[matrix.argmax(axis=1)])
        return Predictions(labels, _probabilities(matrix, self.class_names))


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
            return Predictions(_plain(results[0].ravel().astype(np.float64)), None)
        labels, matrix = results[0], results[1]
        return Predictions(
            _plain(labels.ravel()), _probabilities(matrix, self.class_names)
        )


def _grouped_inputs(onnx_model, groups: list[InputGroup]):
    """Put a Split in front of the converted model, which takes one input per
    feature, so that it takes the groups' matrices instead."""
    from onnx import TensorProto, compose, helper

    opsets = [opset for opset in onnx_model.opset_import if opset.domain == ""]
    nodes, inputs, outputs = [], [], []
    for group in groups:
        kind = TensorProto.STRING if group.strings else TensorProto.FLOAT
        width = len(group.features)
        inputs.append(helper.make_tensor_value_info(group.name, kind, [None, width]))
        outputs += [
            helper.make_tensor_value_info(name, kind, [None, 1])
            for name in group.features
        ]
        # From opset 18 Split needs its number of outputs spelled out.
        count: dict[str, Any] = (
            {"num_outputs": width} if opsets[0].version >= 18 else {}
        )
        nodes.append(
            helper.make_node("Split", [group.name], group.features, axis=1, **count)
        )
    splitter = helper.make_model(
        helper.make_graph(nodes, "split_inputs", inputs, outputs),
        opset_imports=opsets,
        ir_version=onnx_model.ir_version,
    )
    features = [name for group in groups for name in group.features]
    return compose.merge_models(
        splitter, onnx_model, io_map=[(name, name) for name in features]
    )


def _convertible(model):
    """A copy of the pipeline whose categorical imputers look for
    MISSING_CATEGORY: skl2onnx converts a string imputer only when its missing
    marker is a string. OnnxPredictor sends a missing category as
    MISSING_CATEGORY, which the imputers' fill value keeps as it is."""
    copied = copy.deepcopy(model)
    categorical = copied.named_steps["features"].named_transformers_["categorical"]
    # Models trained before the pipeline imputed have an encoder only.
    for step in getattr(categorical, "named_steps", {}).values():
        if isinstance(step, SimpleImputer):
            step.missing_values = MISSING_CATEGORY
    return copied


def to_onnx(model, schema: Schema) -> bytes:
    """Compile the fitted pipeline to a serialized ONNX model (raises if it cannot)."""
    from skl2onnx import get_latest_tested_opset_version
    from skl2onnx import to_onnx as convert
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    register_converters()

    # skl2onnx wants one input per column; the groups' Split then feeds them.
    groups = input_groups(schema)
    inputs = [
        (name, (StringTensorType if group.strings else FloatTensorType)([None, 1]))
        for group in groups
        for name in group.features
    ]
    # zipmap off: class probabilities as one matrix, not a list of dicts.
    convertible = _convertible(model)
    options = {id(convertible): {"zipmap": False}} if schema.is_classification else None
    opsets = {"": get_latest_tested_opset_version(), "ai.onnx.ml": ML_OPSET}
    onnx_model = convert(
        convertible, initial_types=inputs, options=options, target_opset=opsets
    )
    return _grouped_inputs(onnx_model, groups).SerializeToString()


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


def parity_gap(fast: Predictor, reference: Predictor, records: list[dict]) -> float:
    """Largest difference between two predictors on the same records."""
    a, b = fast.predict(records), reference.predict(records)
    if a.probabilities is None or b.probabilities is None:  # regression
        scale = max(1.0, float(np.max(np.abs(b.labels))))
        return float(np.max(np.abs(np.subtract(a.labels, b.labels)))) / scale
    keys = list(b.probabilities[0])
    left = np.array([[row[k] for k in keys] for row in a.probabilities])
    right = np.array([[row[k] for k in keys] for row in b.probabilities])
    return float(np.max(np.abs(left - right)))


def _without_onnx(reference: SklearnPredictor, backend: str, reason: str):
    """The scikit-learn predictor, saying why (backend "auto"), or the error
    (backend "onnx")."""
    if backend == "onnx":
        raise ValueError(reason)
    log.warning("%s; serving with scikit-learn (much slower per row)", reason)
    reference.onnx_unavailable = reason
    return reference


def build_predictor(model, schema: Schema, backend: str, check_records: list[dict]):
    """The fastest predictor that agrees with scikit-learn on `check_records`."""
    reference = SklearnPredictor(model, schema)
    if backend == "sklearn":
        return reference
    try:
        fast = OnnxPredictor(to_onnx(model, schema), schema, reference.classes)
        gap = parity_gap(fast, reference, check_records)
    except Exception as error:  # skl2onnx raises many types for unsupported models
        # The first line: some errors go on with the whole converted graph.
        detail = (str(error).splitlines() or [type(error).__name__])[0][:300]
        return _without_onnx(reference, backend, f"ONNX conversion failed: {detail}")
    if gap > PARITY_TOLERANCE:
        reason = f"ONNX predictions differ from scikit-learn by {gap:.4f}"
        return _without_onnx(reference, backend, reason)
    log.info("serving with ONNX Runtime (max difference from scikit-learn %.5f)", gap)
    return fast
