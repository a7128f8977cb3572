"""Prediction drift: a model's predictions (and class probabilities) against
reference predictions, with the drift tests of `drift`. Either side may be
`score`'s output (`probability_<class>` columns) or prediction log rows
(a `probabilities` mapping)."""

import pandas as pd

from ..schema import Schema
from ..settings import PREDICTION, MonitoringParams
from .drift import ColumnDrift, Thresholds, categorical_drift, numeric_drift
from .windows import probability_columns


def prediction_drift(
    schema: Schema,
    settings: MonitoringParams,
    reference_predictions: pd.DataFrame,
    current: pd.DataFrame,
) -> list[ColumnDrift]:
    """Drift of the served or batch-scored predictions (and of the class
    probabilities) against the reference predictions."""
    # Any drifted prediction column is drift already: no severe-shift rule.
    alpha, min_psi, _ = settings.thresholds(PREDICTION)
    limits = Thresholds(alpha, min_psi)
    ref = reference_predictions.dropna(subset=[PREDICTION])
    cur = current.dropna(subset=[PREDICTION])
    expected, served = ref[PREDICTION], cur[PREDICTION]
    if not schema.is_classification:
        return [numeric_drift(PREDICTION, PREDICTION, expected, served, limits)]
    results = [
        categorical_drift(
            PREDICTION,
            PREDICTION,
            labels_as_text(expected),
            labels_as_text(served),
            limits,
        )
    ]
    for name in probability_columns(schema):
        results.append(
            numeric_drift(
                name,
                PREDICTION,
                probability(ref, name).dropna(),
                probability(cur, name).dropna(),
                limits,
            )
        )
    return results


def probability(predictions: pd.DataFrame, name: str) -> pd.Series:
    """A class probability: a column of `score`'s output, or a key of the
    prediction log's `probabilities`."""
    if name in predictions:
        return predictions[name]
    key = name.removeprefix("probability_")
    return predictions["probabilities"].map(
        lambda p: p.get(key) if isinstance(p, dict) else None
    )


def labels_as_text(labels: pd.Series) -> pd.Series:
    """Class labels as text, so 1, 1.0 (a column with a gap) and "1" agree."""

    def text(value) -> str:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return labels.map(text)
