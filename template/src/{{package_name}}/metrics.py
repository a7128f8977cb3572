"""Task metrics, which direction is better, and the data behind the plots."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from .errors import ProjectError
from .schema import Schema
from .tasks import TASKS


@dataclass(frozen=True)
class Metric:
    name: str
    greater_is_better: bool


# Which direction is better, for every metric of tasks.TASKS.
GREATER_IS_BETTER = {
    "roc_auc": True,
    "roc_auc_ovr": True,
    "f1": True,
    "f1_macro": True,
    "accuracy": True,
    "precision": True,
    "recall": True,
    "log_loss": False,
    "rmse": False,
    "mae": False,
    "r2": True,
}


def metric_for(task: str, name: str) -> Metric:
    known = list(TASKS[task].metrics)
    if name not in known:
        raise ProjectError(f"unknown metric {name!r} for {task}; choose one of {known}")
    return Metric(name, GREATER_IS_BETTER[name])


def roc_auc(y_true, scores, positive) -> float:
    """Area under the ROC curve of the positive class's scores; ValueError
    on rows of one class."""
    return float(skm.roc_auc_score(np.asarray(y_true) == positive, scores))


def f1_macro(y_true, y_pred) -> float:
    return float(skm.f1_score(y_true, y_pred, average="macro"))


def rmse(y_true, y_pred) -> float:
    return float(np.sqrt(skm.mean_squared_error(y_true, y_pred)))


def compute(
    schema: Schema, y_true, y_pred, y_proba=None, classes=None
) -> dict[str, float]:
    """All metrics of the task; y_proba columns follow the order of `classes`."""
    if not schema.is_classification:
        return {
            "rmse": rmse(y_true, y_pred),
            "mae": float(skm.mean_absolute_error(y_true, y_pred)),
            "r2": float(skm.r2_score(y_true, y_pred)),
        }
    classes = list(classes)
    results = {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "log_loss": float(skm.log_loss(y_true, y_proba, labels=classes)),
    }
    if TASKS[schema.task].binary:
        positive = schema.positive_class
        scores = y_proba[:, classes.index(positive)]
        results |= {
            "roc_auc": roc_auc(y_true, scores, positive),
            "f1": float(skm.f1_score(y_true, y_pred, pos_label=positive)),
            "precision": float(
                skm.precision_score(y_true, y_pred, pos_label=positive, zero_division=0)
            ),
            "recall": float(skm.recall_score(y_true, y_pred, pos_label=positive)),
        }
    else:
        results |= {
            "f1_macro": f1_macro(y_true, y_pred),
            "roc_auc_ovr": float(
                skm.roc_auc_score(y_true, y_proba, multi_class="ovr", labels=classes)
            ),
        }
    return results


def beats(
    candidate: float, champion: float, metric: Metric, min_improvement: float
) -> bool:
    """True when the candidate improves on the champion by more than
    min_improvement. Strictly: with the default margin of 0, an identical
    retrain would otherwise move the champion (and reload the service)."""
    gain = candidate - champion if metric.greater_is_better else champion - candidate
    return gain > min_improvement


def plot_tables(
    schema: Schema, y_true, y_pred, y_proba=None, classes=None
) -> dict[str, pd.DataFrame]:
    """Tables that `dvc plots show` renders, keyed by file name."""
    if not schema.is_classification:
        predictions = pd.DataFrame({"actual": y_true, "predicted": y_pred})
        predictions["residual"] = predictions["actual"] - predictions["predicted"]
        return {"predictions.csv": predictions.round(4)}
    tables = {
        "confusion.csv": pd.DataFrame(
            {
                "actual": np.asarray(y_true).astype(str),
                "predicted": np.asarray(y_pred).astype(str),
            }
        )
    }
    if TASKS[schema.task].binary:
        positive = schema.positive_class
        scores = y_proba[:, list(classes).index(positive)]
        fpr, tpr, _ = skm.roc_curve(np.asarray(y_true) == positive, scores)
        tables["roc.csv"] = pd.DataFrame({"fpr": fpr, "tpr": tpr}).round(5)
    return tables


def headline_metric(task: str) -> Metric:
    """The task's first metric, the one feature importance and slices report."""
    return metric_for(task, TASKS[task].metrics[0])


# The headline metrics, each from what headline_predictions() gives: the
# positive class's probability for roc_auc, labels or values otherwise.
HEADLINE_VALUES = {
    "roc_auc": lambda schema, y_true, scores: roc_auc(
        y_true, scores, schema.positive_class
    ),
    "f1_macro": lambda schema, y_true, labels: f1_macro(y_true, labels),
    "rmse": lambda schema, y_true, values: rmse(y_true, values),
}


def headline_predictions(model, features: pd.DataFrame, schema: Schema) -> np.ndarray:
    """One prediction per row, what the headline metric is computed from.
    Importance and slices score many subsets of rows: predicting once and
    scoring the subsets' predictions spares a pipeline call per subset."""
    if headline_metric(schema.task).name == "roc_auc":
        positive = list(model.classes_).index(schema.positive_class)
        return model.predict_proba(features)[:, positive]
    return np.asarray(model.predict(features))


def headline_value(schema: Schema, y_true, predicted: np.ndarray) -> float:
    """The headline metric of rows from their headline_predictions(), as
    compute() gives it (not negated when lower is better)."""
    return HEADLINE_VALUES[headline_metric(schema.task).name](schema, y_true, predicted)
