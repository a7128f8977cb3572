"""Performance on delayed labels: ground truth that arrives after the
prediction, joined to the prediction log on (request_id, row).

Labels file (CSV or Parquet): columns `request_id`, `row` (the row's
position in its request; 0 for single-record requests, may be omitted then)
and the target column named in schema.yaml.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import metrics
from ..data import read_table
from ..errors import ProjectError
from ..paths import METRICS_FILE
from ..schema import Schema
from ..settings import Params


@dataclass(frozen=True)
class Performance:
    labelled_rows: int
    metric: str  # the registry gate's metric, compared with training time
    current: dict[str, float]
    training: dict[str, float]
    drop: float  # how much worse than at training time (negative: better)
    degraded: bool


def read_labels(path: Path, schema: Schema) -> pd.DataFrame:
    """The labels, keyed by (request_id as text, row as a whole number), with
    unlabelled rows dropped; duplicate keys are an error."""
    labels = read_table(path)
    target = schema.target.name
    missing = [name for name in ("request_id", target) if name not in labels.columns]
    if missing:
        raise ProjectError(f"labels file {path} lacks column(s): {', '.join(missing)}")
    if "row" not in labels.columns:
        labels = labels.assign(row=0)
    rows = pd.to_numeric(labels["row"], errors="coerce")
    if rows.isna().any() or (rows % 1 != 0).any():
        raise ProjectError(f"labels file {path}: column row must hold whole numbers")
    labels = labels.assign(request_id=labels["request_id"].astype(str), row=rows)
    labels = labels.dropna(subset=[target])
    duplicated = labels.duplicated(subset=["request_id", "row"])
    if duplicated.any():
        first = labels[duplicated].iloc[0]
        raise ProjectError(
            f"labels file {path}: {int(duplicated.sum())} duplicate (request_id, row) "
            f"pairs, e.g. ({first['request_id']}, {int(first['row'])})"
        )
    if schema.target.classes:  # "1" in a CSV is the class 1
        by_text = {str(label): label for label in schema.target.classes}
        labels[target] = labels[target].map(lambda value: by_text.get(str(value)))
        labels = labels.dropna(subset=[target])
    return labels[["request_id", "row", target]]


def training_metrics() -> dict[str, float]:
    if not METRICS_FILE.is_file():
        raise ProjectError(f"{METRICS_FILE} not found: run the pipeline first")
    report = json.loads(METRICS_FILE.read_text())
    return {k: v for k, v in report.items() if isinstance(v, (int, float))}


def keyed(window: pd.DataFrame) -> pd.DataFrame:
    """Log rows with their keys as read_labels writes them: request_id as
    text, row as a number."""
    return window.assign(
        request_id=window["request_id"].astype(str),
        row=pd.to_numeric(window["row"], errors="coerce"),
    )


def labelled_rows(window: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """The window's rows that have a label, with it."""
    return keyed(window).merge(labels, on=["request_id", "row"], how="inner")


def scores(labelled: pd.DataFrame, schema: Schema) -> dict[str, float]:
    """All metrics of the task on labelled log rows (`prediction`, for
    classifiers `probabilities`, and the target column)."""
    y_true = labelled[schema.target.name].to_numpy()
    y_pred = labelled["prediction"].to_numpy()
    y_proba, classes = None, None
    if schema.is_classification:
        # Sorted, as scikit-learn orders classes (its metrics expect that order).
        classes = sorted(schema.target.classes or [])  # set for classification
        try:
            y_proba = np.array(
                [
                    [p[str(label)] for label in classes]
                    for p in labelled["probabilities"]
                ]
            )
        except (KeyError, TypeError):
            raise ProjectError(
                "labelled log rows lack a probability for every class"
            ) from None
    try:
        return metrics.compute(schema, y_true, y_pred, y_proba, classes)
    except ValueError as error:  # e.g. mixed label types
        raise ProjectError(
            f"cannot score {len(labelled)} labelled rows: {error}"
        ) from None


def labelled_performance(
    window: pd.DataFrame,
    labels: pd.DataFrame,
    schema: Schema,
    params: Params,
    at_training: dict[str, float],
) -> Performance:
    joined = labelled_rows(window, labels)
    if joined.empty:
        raise ProjectError(
            "no labelled rows match the window: labels join the prediction log "
            "on request_id and row"
        )
    current = scores(joined, schema)
    metric = metrics.metric_for(schema.task, params.registry.gate.metric)
    before, now = at_training[metric.name], current[metric.name]
    drop = before - now if metric.greater_is_better else now - before
    return Performance(
        labelled_rows=len(joined),
        metric=metric.name,
        current=current,
        training={name: at_training[name] for name in current if name in at_training},
        drop=drop,
        # NaN (ROC AUC when the labels hold one class) decides nothing.
        degraded=math.isfinite(drop) and drop > params.monitoring.max_metric_drop,
    )
