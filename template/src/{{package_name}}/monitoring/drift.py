"""Drift of one column between two windows, and of the whole data set.

A column drifts when its two-sample test rejects "same distribution" at
level alpha (Kolmogorov-Smirnov for numbers, chi-squared for categories)
AND the shift is large enough to matter: population stability index (PSI)
at least min_psi. The test bounds false alarms by alpha; the PSI floor keeps
large windows from flagging negligible shifts. The distance reported is
the KS statistic (largest gap between the two distribution functions) for
numbers and the Jensen-Shannon distance for categories, both in [0, 1].

The data set drifts by either of two rules: at least drift_share of the
features drift ("drift_share"), or one drifted feature's PSI reaches its
severe_psi ("severe_shift"), so that one huge shift among a few features is
not outvoted by the unchanged ones.
"""

from dataclasses import asdict, dataclass, replace

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
    severe_psi: float | None = None  # None: this column never drifts alone


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

    @property
    def severe(self) -> bool:
        """Drifted, and by so much that the data set drifts with it."""
        severe_psi = self.thresholds.severe_psi
        if not self.drifted or severe_psi is None or self.psi is None:
            return False
        return self.psi >= severe_psi


def drift_rows(columns: list[ColumnDrift]) -> list[dict]:
    """JSON-ready: each column's figures and verdicts."""
    return [{**asdict(c), "drifted": c.drifted, "severe": c.severe} for c in columns]


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


@dataclass(frozen=True)
class DatasetDrift:
    """The data-set verdict and the figures of both rules behind it."""

    tested: int  # columns with values on both sides
    drifted: list[str]
    severe: list[ColumnDrift]
    # The drifted column nearest its severe_psi, when none reached it.
    nearest_severe: ColumnDrift | None
    drift_share: float
    severe_psi: float | None  # the default; columns may override it
    severe_rule_on: bool  # some tested column has a severe_psi

    @property
    def share(self) -> float:
        return len(self.drifted) / self.tested if self.tested else 0.0

    @property
    def share_rule_fired(self) -> bool:
        return self.tested > 0 and self.share >= self.drift_share

    @property
    def severe_rule_fired(self) -> bool:
        return bool(self.severe)

    @property
    def detected(self) -> bool:
        return self.share_rule_fired or self.severe_rule_fired

    def rules(self) -> list[dict]:
        """Each rule: whether it fired, its thresholds, and the figures."""

        def figures(c: ColumnDrift) -> dict:
            return {
                "feature": c.name,
                "psi": c.psi,
                "severe_psi": c.thresholds.severe_psi,
                "p_value": c.p_value,
                "alpha": c.thresholds.alpha,
            }

        nearest = self.nearest_severe
        return [
            {
                "rule": "drift_share",
                "fired": self.share_rule_fired,
                "drift_share": self.drift_share,
                "share": self.share,
                "drifted": len(self.drifted),
                "tested": self.tested,
                "features": self.drifted,
            },
            {
                "rule": "severe_shift",
                "fired": self.severe_rule_fired,
                "enabled": self.severe_rule_on,
                "severe_psi": self.severe_psi,
                "features": [figures(c) for c in self.severe],
                "nearest": figures(nearest) if nearest else None,
            },
        ]

    def explain(self) -> str:
        """One sentence: the verdict, each rule's figures and thresholds."""
        comparison = ">=" if self.share_rule_fired else "<"
        share = (
            f"{len(self.drifted)} of {self.tested} features drifted (share "
            f"{self.share:.2f} {comparison} drift_share {self.drift_share})"
        )
        verdict = "Data drift" if self.detected else "No data drift"
        return f"{verdict}: {share}; {self._severe_text()}"

    def _severe_text(self) -> str:
        if not self.severe_rule_on:
            return "severe-shift rule off (severe_psi null)"
        if self.severe:
            shifts = ", ".join(
                f"{c.name} (PSI {c.psi:.2f} >= severe_psi {c.thresholds.severe_psi})"
                for c in self.severe
            )
            return f"severe shift in {shifts}"
        c = self.nearest_severe
        if c is None and self.drifted:
            return "no severe shift (severe_psi null for the drifted features)"
        if c is None:
            default = "null" if self.severe_psi is None else self.severe_psi
            return f"no severe shift (no feature drifted; severe_psi {default})"
        return (
            f"no severe shift (nearest: {c.name} PSI {c.psi:.2f} "
            f"< severe_psi {c.thresholds.severe_psi})"
        )


def dataset_drift(
    columns: list[ColumnDrift], drift_share: float, severe_psi: float | None
) -> DatasetDrift:
    """The data set drifts when drift_share of the columns that could be
    tested drift (a column without values is a data-quality problem), or
    when one column's shift is severe. `severe_psi` is the default, for the
    verdict's text; each column carries its own."""
    tested = [c for c in columns if c.p_value is not None]
    drifted = [c for c in tested if c.drifted]
    severe = [c for c in drifted if c.severe]
    # How far each drifted column's PSI is from its own severe threshold.
    margins = [
        (c.psi - c.thresholds.severe_psi, c)
        for c in drifted
        if c.psi is not None and c.thresholds.severe_psi is not None
    ]
    nearest = max(margins, key=lambda margin: margin[0])[1] if margins else None
    return DatasetDrift(
        tested=len(tested),
        drifted=[c.name for c in drifted],
        severe=severe,
        nearest_severe=None if severe else nearest,
        drift_share=drift_share,
        severe_psi=severe_psi,
        severe_rule_on=any(c.thresholds.severe_psi is not None for c in tested),
    )


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
