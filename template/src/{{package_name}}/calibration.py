"""Whether a classifier's probabilities mean what they say: of the rows given
70%, about 70% should turn out to be that class.

Binary: the positive class's probability against how often rows are positive.
Multiclass: the top label's probability (the confidence) against how often the
top label is right, the usual reading of expected calibration error for more
than two classes.
"""

import numpy as np
import pandas as pd

from .features import model_input
from .schema import Schema

BINS = 10  # equal-width probability bins of the reliability curve and the ECE


def model_calibration(
    model, frame: pd.DataFrame, schema: Schema
) -> tuple[dict, pd.DataFrame]:
    """calibration() of a fitted classifier on a labelled frame."""
    y_proba = model.predict_proba(model_input(frame, schema))
    return calibration(
        frame[schema.target.name], y_proba, list(model.classes_), schema.positive_class
    )


def calibration(
    y_true, y_proba: np.ndarray, classes: list, positive=None
) -> tuple[dict, pd.DataFrame]:
    """The report of reports/calibration.json and its reliability curve
    (reports/plots/calibration.csv); y_proba's columns follow `classes`,
    `positive` is the positive class of a binary task (None: multiclass)."""
    y_true = np.asarray(y_true)
    if positive is not None:
        confidence = y_proba[:, classes.index(positive)]
        outcome = y_true == positive
    else:
        confidence = y_proba.max(axis=1)
        outcome = np.asarray(classes)[y_proba.argmax(axis=1)] == y_true
    curve = reliability_curve(confidence, outcome)
    report = {
        "brier_score": round(brier_score(y_true, y_proba, classes, positive), 6),
        "expected_calibration_error": round(expected_calibration_error(curve), 6),
        "bins": BINS,
    }
    return report, curve.round(5)


def brier_score(y_true, y_proba: np.ndarray, classes: list, positive=None) -> float:
    """Mean squared distance of the probabilities from what happened.

    Binary: of the positive class's probability from 1/0, in [0, 1].
    Multiclass: Brier's original score, the squared distances of all classes'
    probabilities from the one-hot outcome summed per row, in [0, 2] (as
    scikit-learn's brier_score_loss for more than two classes).
    """
    y_true = np.asarray(y_true)
    if positive is not None:
        probability = y_proba[:, classes.index(positive)]
        return float(np.mean((probability - (y_true == positive)) ** 2))
    one_hot = y_true[:, None] == np.asarray(classes)[None, :]
    return float(np.mean(np.sum((y_proba - one_hot) ** 2, axis=1)))


def reliability_curve(confidence: np.ndarray, outcome: np.ndarray) -> pd.DataFrame:
    """Per non-empty bin: mean predicted probability, observed frequency, rows;
    `perfect` (= predicted) draws the diagonal a calibrated model follows."""
    bins = np.minimum((confidence * BINS).astype(int), BINS - 1)
    table = (
        pd.DataFrame({"bin": bins, "predicted": confidence, "observed": outcome})
        .groupby("bin")
        .agg(
            predicted=("predicted", "mean"),
            observed=("observed", "mean"),
            rows=("observed", "size"),
        )
        .reset_index(drop=True)
    )
    table["perfect"] = table["predicted"]
    return table


def expected_calibration_error(curve: pd.DataFrame) -> float:
    """The bins' gaps between observed and predicted, weighted by their rows."""
    gaps = (curve["observed"] - curve["predicted"]).abs()
    return float((gaps * curve["rows"]).sum() / curve["rows"].sum())
