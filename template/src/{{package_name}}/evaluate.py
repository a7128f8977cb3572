"""Score the trained model on the holdout split: metrics, baseline and plots;
which features it relies on, its metric per slice and, for classifiers, how
well calibrated its probabilities are."""

import json
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.models import Model
from sklearn.dummy import DummyClassifier, DummyRegressor

from . import calibration, importance, metrics, slices, tracking
from .data import read_table
from .errors import ProjectError
from .features import model_input
from .paths import (
    CALIBRATION_FILE,
    HOLDOUT_FILE,
    IMPORTANCE_FILE,
    METRICS_FILE,
    MODEL_DIR,
    PLOTS_DIR,
    RUN_FILE,
    SLICES_FILE,
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


def insights(
    model, holdout: pd.DataFrame, schema: Schema
) -> tuple[dict[Path, dict], dict[str, pd.DataFrame]]:
    """Importance, slices and calibration: reports by path, plot tables by name."""
    explained = importance.permutation_importances(model, holdout, schema)
    sliced = slices.slice_metrics(model, holdout, schema)
    reports = {IMPORTANCE_FILE: explained, SLICES_FILE: sliced}
    tables = {
        "importance.csv": importance.importance_table(explained),
        "slices.csv": slices.slices_table(sliced),
    }
    if schema.is_classification:
        reports[CALIBRATION_FILE], tables["calibration.csv"] = (
            calibration.model_calibration(model, holdout, schema)
        )
    return reports, tables


def _tracked(reports: dict[Path, dict]) -> tuple[dict[str, float], dict[str, str]]:
    """The numbers of the reports worth a metric or a tag on the run."""
    logged: dict[str, float] = {}
    tags: dict[str, str] = {}
    if CALIBRATION_FILE in reports:
        report = reports[CALIBRATION_FILE]
        logged |= {
            name: report[name] for name in ("brier_score", "expected_calibration_error")
        }
    sliced = reports[SLICES_FILE]
    if worst := sliced["worst"]:
        logged[f"worst_slice_{sliced['metric']}"] = worst["value"]
        tags["worst_slice"] = f"{worst['feature']}={worst['category']}"
    return logged, tags


def _trained_run() -> dict:
    """models/run.json, provided models/model is that run's model: the gate
    trusts the metrics logged here as the registered model's."""
    run = json.loads(RUN_FILE.read_text())
    if Model.load(str(MODEL_DIR)).run_id != run["run_id"]:
        raise ProjectError(
            f"{MODEL_DIR} is not the model of run {run['run_id']} ({RUN_FILE}): "
            "run `dvc checkout` (or `dvc repro`) to bring them together"
        )
    return run


def evaluate(schema: Schema) -> dict:
    run = _trained_run()
    model = mlflow.sklearn.load_model(str(MODEL_DIR))
    holdout = read_table(HOLDOUT_FILE)
    results, tables = score(model, holdout, schema)
    baseline = baseline_metrics(schema, read_table(TRAIN_FILE), holdout)
    reports, insight_tables = insights(model, holdout, schema)

    METRICS_FILE.parent.mkdir(parents=True, exist_ok=True)
    report = {**results, "holdout_rows": len(holdout), "baseline": baseline}
    METRICS_FILE.write_text(json.dumps(report, indent=2) + "\n")
    for path, content in reports.items():
        path.write_text(json.dumps(content, indent=2) + "\n")
    PLOTS_DIR.mkdir(parents=True, exist_ok=True)
    for name, table in (tables | insight_tables).items():
        table.to_csv(PLOTS_DIR / name, index=False)

    logged, tags = _tracked(reports)
    # Which rows the metrics are of: the gate takes the challenger's metric
    # from the run only when it was measured on the holdout it decides on.
    tags[tracking.HOLDOUT_TAG] = tracking.file_sha256(HOLDOUT_FILE)
    tracking.connect()
    with mlflow.start_run(run_id=run["run_id"]):
        mlflow.log_metrics(results)
        mlflow.log_metrics(
            {f"baseline_{name}": value for name, value in baseline.items()}
        )
        mlflow.log_metrics(logged)
        mlflow.set_tags(tags)
        mlflow.log_artifacts(str(PLOTS_DIR), artifact_path="plots")
        for path in reports:
            mlflow.log_artifact(str(path), artifact_path="reports")
    return report
