"""The headline metric per category of each categorical feature, so that a
model good on average but poor for one group of rows is seen, worst slice
called out."""

import math
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import UndefinedMetricWarning

from . import metrics
from .features import model_input
from .schema import Schema

# Fewer rows than this give a value too noisy to compare: the slice is listed
# with its row count and value null.
MIN_ROWS = 50
MISSING = "(missing)"  # rows without a value form a slice of their own


def slice_metrics(model, frame: pd.DataFrame, schema: Schema) -> dict:
    """The report of reports/slices.json."""
    metric = metrics.headline_metric(schema.task)
    # One prediction of all rows; each slice is scored on its share of them.
    predicted = metrics.headline_predictions(model, model_input(frame, schema), schema)
    target = frame[schema.target.name].to_numpy()
    slices = []
    for feature in schema.features:
        if feature.type != "categorical":
            continue
        labels = frame[feature.name].map(
            lambda value: MISSING if pd.isna(value) else str(value)
        )
        for category in _in_order(labels, feature.categories or []):
            rows = (labels == category).to_numpy()
            count = int(rows.sum())
            value = (
                _value(schema, target[rows], predicted[rows])
                if count >= MIN_ROWS
                else None
            )
            slices.append(
                {
                    "feature": feature.name,
                    "category": category,
                    "rows": count,
                    "value": value,
                }
            )
    return {
        "metric": metric.name,
        "higher_is_better": metric.greater_is_better,
        "min_rows": MIN_ROWS,
        "slices": slices,
        "worst": _worst(slices, metric),
    }


def _in_order(labels: pd.Series, categories: list[str]) -> list[str]:
    """The categories present: schema order, then any others, missing last."""
    present = set(labels)
    others = sorted(present - {*categories, MISSING})
    tail = [MISSING] if MISSING in present else []
    return [c for c in categories if c in present] + others + tail


def _value(schema: Schema, target: np.ndarray, predicted: np.ndarray) -> float | None:
    # Undefined on some rows (roc_auc where all rows have one class): an error
    # or a NaN, depending on the metric and the scikit-learn version.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        try:
            value = metrics.headline_value(schema, target, predicted)
        except ValueError:
            return None
    return round(value, 6) if math.isfinite(value) else None


def _worst(slices: list[dict], metric: metrics.Metric) -> dict | None:
    scored = [s for s in slices if s["value"] is not None]
    if not scored:
        return None
    pick = min if metric.greater_is_better else max
    return pick(scored, key=lambda s: s["value"])


def slices_table(report: dict) -> pd.DataFrame:
    """reports/plots/slices.csv: one bar per slice with a value."""
    scored = [s for s in report["slices"] if s["value"] is not None]
    return pd.DataFrame(
        {
            "slice": [f"{s['feature']}={s['category']}" for s in scored],
            "value": [s["value"] for s in scored],
            "rows": [s["rows"] for s in scored],
        }
    )
