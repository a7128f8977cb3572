"""Score the trained model on the holdout split: metrics, baseline and plots."""

import json

import mlflow
import pandas as pd
from sklearn.dummy import DummyClassifier, DummyRegressor

from . import metrics, tracking
from .data import read_table
from .features import model_input
from .paths import (
    HOLDOUT_FILE,
    METRICS_FILE,
    MODEL_DIR,
    PLOTS_DIR,
    RUN_FILE,
    TRAIN_FILE,
)
from .schema import Schema


def score(model, frame: pd.DataFrame, schema: Schema) -> tuple[dict, dict]:
    """Metrics and plot tables of any fitted estimator on a labelled frame."""
    features = model_input(frame, schema)
    y_true = frame[schema.target.name].to_numpy()
    y_pred = model.predict(features)
    y_proba = model.predict_proba(features) if schema.is_classification else None
    classes = getattr(model, "classes_", None)
    return (
        metrics.compute(schema, y_true, y_pred, y_proba, classes),
        metrics.plot_tables(schema, y_true, y_pred, y_proba, classes),
    )


def baseline_metrics(
    schema: Schema, train_frame: pd.DataFrame, holdout: pd.DataFrame
) -> dict:
    """What a model that ignores the features scores: the floor to beat."""
    dummy = (
        DummyClassifier(strategy="prior")
        if schema.is_classification
        else DummyRegressor()
    )
    dummy.fit(model_input(train_frame, schema), train_frame[schema.target.name])
    return score(dummy, holdout, schema)[0]


def evaluate(schema: Schema) -> dict:
    model = mlflow.sklearn.load_model(str(MODEL_DIR))
    holdout = read_table(HOLDOUT_FILE)
    results, tables = score(model, holdout, schema)
    baseline = baseline_metrics(schema, read_table(TRAIN_FILE), holdout)

    METRICS_FILE.parent.mkdir(parents=True, exist_ok=True)
    report = {**results, "holdout_rows": len(holdout), "baseline": baseline}
    METRICS_FILE.write_text(json.dumps(report, indent=2) + "\n")
    PLOTS_DIR.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_csv(PLOTS_DIR / name, index=False)

    run = json.loads(RUN_FILE.read_text())
    tracking.connect()
    with mlflow.start_run(run_id=run["run_id"]):
        mlflow.log_metrics(results)
        mlflow.log_metrics(
            {f"baseline_{name}": value for name, value in baseline.items()}
        )
        mlflow.log_artifacts(str(PLOTS_DIR), artifact_path="plots")
    return report
