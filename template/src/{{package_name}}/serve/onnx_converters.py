"""Teach skl2onnx every model family: register the LightGBM and XGBoost
converters of onnxmltools (when those libraries are installed), and work
around skl2onnx's HistGradientBoosting converter on current protobuf."""

import functools
import importlib.util

# The opset of ONNX's "ai.onnx.ml" domain (tree ensembles, encoders) that
# onnxmltools' converters write; newer ones they refuse to mix with.
ML_OPSET = 3

_registered = False


def register_converters() -> None:
    """Make to_onnx convert every family (once per process)."""
    global _registered
    if _registered:
        return
    _fix_hist_gradient_boosting()
    if importlib.util.find_spec("lightgbm"):
        _register_lightgbm()
    if importlib.util.find_spec("xgboost"):
        _register_xgboost()
    _registered = True


def _fix_hist_gradient_boosting() -> None:
    """skl2onnx 1.20 gives a leaf's "missing values go left" flag as Python's
    False, among numpy integers for the branches; current protobuf (7.x) refuses a
    boolean in an integer list ("Expected an int, got a boolean"), so no
    HistGradientBoosting model converted. The flag is 0 or 1 either way."""
    from skl2onnx.common import tree_ensemble

    add_node = tree_ensemble.add_node
    if getattr(add_node, "casts_missing_flag", False):
        return

    @functools.wraps(add_node)
    def add_node_with_int_flag(*args, nodes_missing_value_tracks_true=0, **kwargs):
        return add_node(
            *args,
            nodes_missing_value_tracks_true=int(nodes_missing_value_tracks_true),
            **kwargs,
        )

    add_node_with_int_flag.casts_missing_flag = True  # type: ignore[attr-defined]
    tree_ensemble.add_node = add_node_with_int_flag


# Options the classifiers' converters accept, as skl2onnx's own do: zipmap
# off gives probabilities as a matrix.
_CLASSIFIER_OPTIONS = {"nocl": [True, False], "zipmap": [True, False, "columns"]}


def _register_lightgbm() -> None:
    from lightgbm import LGBMClassifier, LGBMRegressor
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import (
        convert_lightgbm,
    )
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    update_registered_converter(
        LGBMClassifier,
        "LightGbmLGBMClassifier",
        calculate_linear_classifier_output_shapes,
        convert_lightgbm,
        options=_CLASSIFIER_OPTIONS,
    )
    update_registered_converter(
        LGBMRegressor,
        "LightGbmLGBMRegressor",
        calculate_linear_regressor_output_shapes,
        convert_lightgbm,
        options={"split": None},
    )


def _register_xgboost() -> None:
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import (
        convert_xgboost,
    )
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )
    from xgboost import XGBClassifier, XGBRegressor

    update_registered_converter(
        XGBClassifier,
        "XGBoostXGBClassifier",
        calculate_linear_classifier_output_shapes,
        convert_xgboost,
        options=_CLASSIFIER_OPTIONS,
    )
    update_registered_converter(
        XGBRegressor,
        "XGBoostXGBRegressor",
        calculate_linear_regressor_output_shapes,
        convert_xgboost,
    )
