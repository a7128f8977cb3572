"""Drift of one column between two windows, and of the whole data set.

A column drifts when its two-sample test rejects "same distribution" at
level alpha (Kolmogorov-Smirnov for numbers, chi-squared for categories)
AND the shift is large enough to matter: population stability index (PSI)
at least min_psi. The test bounds false alarms by alpha; the PSI floor keeps
large windows from flagging negligible shifts. The distance reported is
the KS statistic (largest gap between the two distribution functions) for
numbers and the Jensen-Shannon distance for categories, both in [0, 1].
"""

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

PSI_BINS = 10
# Proportions are floored at this before PSI's logarithm (empty bins).
PSI_FLOOR = 1e-4


@dataclass(frozen=True)
class Thresholds:
    alpha: float
    min_psi: float


@dataclass(frozen=True)
class ColumnDrift:
    name: str
    kind: str  # numeric | categorical | boolean | prediction
    test: str  # "Kolmogorov-Smirnov" | "chi-squared" | "none" (no values)
    thresholds: Thresholds
    reference_rows: int
    current_rows: int
    p_value: float | None = None
    psi: float | None = None
    distance: float | None = None

    @property
    def drifted(self) -> bool:
        if self.p_value is None or self.psi is None:
            return False  # nothing to test; data quality reports the missing values
        return (
            self.p_value < self.thresholds.alpha and self.psi >= self.thresholds.min_psi
        )


def numeric_drift(
    name: str, kind: str, reference: pd.Series, current: pd.Series, limits: Thresholds
) -> ColumnDrift:
    ref, cur = reference.to_numpy(float), current.to_numpy(float)
    result = ColumnDrift(name, kind, "none", limits, len(ref), len(cur))
    if not (len(ref) and len(cur)):
        return result
    ks = stats.ks_2samp(ref, cur)
    return replace(
        result,
        test="Kolmogorov-Smirnov",
        p_value=float(ks.pvalue),
        psi=_psi(*_binned_counts(ref, cur)),
        distance=float(ks.statistic),
    )


def categorical_drift(
    name: str, kind: str, reference: pd.Series, current: pd.Series, limits: Thresholds
) -> ColumnDrift:
    result = ColumnDrift(name, kind, "none", limits, len(reference), len(current))
    if not (len(reference) and len(current)):
        return result
    _, ref_counts, cur_counts = category_counts(reference, current)
    if len(ref_counts) < 2:
        p_value = 1.0  # one category on both sides: nothing can differ
    else:
        p_value = float(stats.chi2_contingency([ref_counts, cur_counts]).pvalue)
    return replace(
        result,
        test="chi-squared",
        p_value=p_value,
        psi=_psi(ref_counts, cur_counts),
        distance=float(jensenshannon(ref_counts, cur_counts, base=2)),
    )


def category_counts(reference: pd.Series, current: pd.Series):
    """Every category seen on either side, and its counts on each side."""
    ref, cur = reference.value_counts(), current.value_counts()
    categories = ref.index.union(cur.index).sort_values()
    return (
        list(categories),
        ref.reindex(categories, fill_value=0).to_numpy(float),
        cur.reindex(categories, fill_value=0).to_numpy(float),
    )


def dataset_drift(columns: list[ColumnDrift], drift_share: float) -> tuple[float, bool]:
    """Share of drifted columns among those that could be tested (a column
    without values is a data-quality problem), and whether it reaches
    drift_share."""
    tested = [c for c in columns if c.p_value is not None]
    share = sum(c.drifted for c in tested) / len(tested) if tested else 0.0
    return share, share >= drift_share


def _binned_counts(reference: np.ndarray, current: np.ndarray):
    """Counts in bins cut at the reference's deciles."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, PSI_BINS + 1)[1:-1]))

    def counts(values: np.ndarray) -> np.ndarray:
        bins = np.searchsorted(edges, values, side="right")
        return np.bincount(bins, minlength=len(edges) + 1).astype(float)

    return counts(reference), counts(current)


def _psi(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    ref = np.maximum(reference_counts / reference_counts.sum(), PSI_FLOOR)
    cur = np.maximum(current_counts / current_counts.sum(), PSI_FLOOR)
    return float(np.sum((cur - ref) * np.log(cur / ref)))
