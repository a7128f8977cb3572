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


def compute(
    schema: Schema, y_true, y_pred, y_proba=None, classes=None
) -> dict[str, float]:
    """All metrics of the task; y_proba columns follow the order of `classes`."""
    if not schema.is_classification:
        return {
            "rmse": float(np.sqrt(skm.mean_squared_error(y_true, y_pred))),
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
            "roc_auc": float(skm.roc_auc_score(np.asarray(y_true) == positive, scores)),
            "f1": float(skm.f1_score(y_true, y_pred, pos_label=positive)),
            "precision": float(
                skm.precision_score(y_true, y_pred, pos_label=positive, zero_division=0)
            ),
            "recall": float(skm.recall_score(y_true, y_pred, pos_label=positive)),
        }
    else:
        results |= {
            "f1_macro": float(skm.f1_score(y_true, y_pred, average="macro")),
            "roc_auc_ovr": float(
                skm.roc_auc_score(y_true, y_proba, multi_class="ovr", labels=classes)
            ),
        }
    return results


def beats(
    candidate: float, champion: float, metric: Metric, min_improvement: float
) -> bool:
    """True when the candidate improves on the champion by at least min_improvement."""
    gain = candidate - champion if metric.greater_is_better else champion - candidate
    return gain >= min_improvement


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


# sklearn's scorer of each metric importance and slices measure: the value
# compute() gives (roc_auc does not depend on which class is positive), from
# any fitted model on any rows. Scorers return lower-is-better metrics negated.
SCORERS = {
    "roc_auc": "roc_auc",
    "f1_macro": "f1_macro",
    "rmse": "neg_root_mean_squared_error",
}


def headline_metric(task: str) -> Metric:
    """The task's first metric, the one feature importance and slices report."""
    return metric_for(task, TASKS[task].metrics[0])
