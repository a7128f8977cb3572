"""Batch prediction: a file in, the same rows with predictions out.

A folder that `export-model` wrote is predicted with its ONNX model, as the
service does, without importing MLflow or scikit-learn; any other model URI
(the registry's champion by default) is loaded with MLflow.
"""

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .data import read_table, write_table
from .errors import ProjectError
from .schema import Schema
from .serve.model_source import read_export
from .serve.predictors import OnnxPredictor, Predictions
from .validation import validate_frame


def load_model(model_uri: str):
    """The scikit-learn pipeline at `model_uri`, loaded with MLflow."""
    import mlflow

    from . import tracking

    tracking.connect()
    try:
        return mlflow.sklearn.load_model(model_uri)
    # ImportError: the model's family needs its extra (README, Model families).
    except (mlflow.exceptions.MlflowException, OSError, ImportError) as error:
        raise ProjectError(f"cannot load model {model_uri}: {error}") from error


def predict_frame(model, frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Predictions (and class probabilities for classifiers) for valid rows."""
    from .features import model_input  # scikit-learn: not for exported models

    features = model_input(frame, schema)
    result = pd.DataFrame({"prediction": model.predict(features)}, index=frame.index)
    if schema.is_classification:
        probabilities = model.predict_proba(features)
        for position, label in enumerate(model.classes_):
            result[f"probability_{label}"] = probabilities[:, position]
    return result


def prediction_columns(predictions: Predictions, index: pd.Index) -> pd.DataFrame:
    """A predictor's answers as columns: `prediction` and, for classifiers,
    `probability_<class>` per class."""
    columns = pd.DataFrame({"prediction": predictions.labels}, index=index)
    if predictions.probabilities is not None:
        probabilities = pd.DataFrame(predictions.probabilities, index=index)
        for name in probabilities.columns:
            columns[f"probability_{name}"] = probabilities[name]
    return columns


def check_added_columns(
    source: object, input_columns: Iterable[str], added: Iterable[str]
) -> None:
    """Stop when the input already has a column the output adds, as a
    previous output fed back in does: the output would hold two columns of
    one name, or lose the owner's."""
    if clash := sorted(set(added).intersection(input_columns)):
        raise ProjectError(
            f"{source}: the input already has column(s) {', '.join(clash)}, which "
            "the output adds: rename or drop them (a previous output given as input?)"
        )


def plain_records(features: pd.DataFrame) -> list[dict]:
    """Rows as the service receives them: plain values, None when missing."""
    plain = features.astype(object)
    return plain.where(plain.notna(), None).to_dict(orient="records")


def _exported_predictions(
    model_uri: str, frame: pd.DataFrame, schema: Schema
) -> pd.DataFrame | None:
    """Predictions of the ONNX model export-model wrote at `model_uri`;
    None when it is not such a folder."""
    exported = read_export(model_uri)
    if exported is None or exported.onnx is None:
        return None
    predictor = OnnxPredictor(exported.onnx, schema, exported.class_names)
    records = plain_records(frame[schema.feature_names])
    return prediction_columns(predictor.predict(records), frame.index)


def predict_file(
    input_path: Path, output_path: Path, model_uri: str, schema: Schema
) -> int:
    frame = read_table(input_path)
    report = validate_frame(frame, schema, with_target=False)
    if not report.ok:
        raise ProjectError(report.to_text(str(input_path)))
    predictions = _exported_predictions(model_uri, frame, schema)
    if predictions is None:
        predictions = predict_frame(load_model(model_uri), frame, schema)
    check_added_columns(input_path, frame.columns, predictions.columns)
    write_table(pd.concat([frame, predictions], axis=1), output_path)
    return len(frame)
