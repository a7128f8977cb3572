"""Batch prediction: a file in, the same rows with predictions out."""

from pathlib import Path

import mlflow
import pandas as pd

from . import tracking
from .data import read_table, write_table
from .errors import ProjectError
from .features import model_input
from .schema import Schema
from .validation import validate_frame


def load_model(model_uri: str):
    tracking.connect()
    try:
        return mlflow.sklearn.load_model(model_uri)
    # ImportError: the model's family needs its extra (README, Model families).
    except (mlflow.exceptions.MlflowException, OSError, ImportError) as error:
        raise ProjectError(f"cannot load model {model_uri}: {error}") from error


def predict_frame(model, frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Predictions (and class probabilities for classifiers) for valid rows."""
    features = model_input(frame, schema)
    result = pd.DataFrame({"prediction": model.predict(features)}, index=frame.index)
    if schema.is_classification:
        probabilities = model.predict_proba(features)
        for position, label in enumerate(model.classes_):
            result[f"probability_{label}"] = probabilities[:, position]
    return result


def predict_file(
    input_path: Path, output_path: Path, model_uri: str, schema: Schema
) -> int:
    frame = read_table(input_path)
    report = validate_frame(frame, schema, with_target=False)
    if not report.ok:
        raise ProjectError(report.to_text(str(input_path)))
    predictions = predict_frame(load_model(model_uri), frame, schema)
    write_table(pd.concat([frame, predictions], axis=1), output_path)
    return len(frame)
