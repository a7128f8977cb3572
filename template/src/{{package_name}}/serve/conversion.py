"""Compile the fitted scikit-learn pipeline to ONNX, check that it agrees,
and choose the predictor: ONNX Runtime when the pipeline converts and agrees,
scikit-learn otherwise.

Only what makes or checks the ONNX model lives here (scikit-learn, skl2onnx,
pandas); serving an exported model.onnx needs none of it (predictors.py).
"""

import copy
import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer

from ..features import model_input
from ..schema import MISSING_CATEGORY, Schema
from .onnx_converters import ML_OPSET, register_converters
from .predictors import (
    InputGroup,
    OnnxPredictor,
    Predictions,
    Predictor,
    input_groups,
    plain,
    probabilities,
)

log = logging.getLogger(__name__)

# ONNX computes in float32: probabilities may differ from scikit-learn's by
# about 1e-2 on forests; larger differences mean a wrong conversion.
PARITY_TOLERANCE = 0.05


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
            return Predictions(plain(self.model.predict(features)), None)
        # The label is the most probable class (as each family's own predict
        # decides it): one pass of the model, not predict and predict_proba.
        matrix = self.model.predict_proba(features)
        labels = plain(np.asarray(self.classes)[matrix.argmax(axis=1)])
        return Predictions(labels, probabilities(matrix, self.class_names))


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
