"""Champion vs challenger: the shadow model's logged predictions (the
service's `<log dir>/shadow/`, in the prediction log's format) paired with
the champion's on the same rows by (request_id, row).

The comparison gives how often the two agree, whether the challenger's
predictions drift from the champion's on the same rows, and with delayed
labels both models' metrics on the same labelled rows. It recommends
promoting the challenger only when enough labelled rows show it beating the
champion on the registry gate's metric by register.gate.min_improvement. It
is a recommendation: it promotes nothing and leaves the monitor's verdict
alone.
"""

import math
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .. import metrics
from ..errors import ProjectError
from ..paths import SHADOW_LOG_FOLDER
from ..schema import Schema
from ..settings import PREDICTION, Params, ShadowParams
from . import performance
from .drift import ColumnDrift, drift_rows
from .predictions import labels_as_text, prediction_drift
from .windows import Window, log_window

# The challenger predicts after the champion: its lines may be stamped later.
SHADOW_DELAY = timedelta(minutes=10)
KEYS = ["request_id", "row"]
PROMOTE, KEEP = "promote the challenger", "keep the champion"


@dataclass(frozen=True)
class LabelledComparison:
    labelled_rows: int  # compared rows with a delayed label
    metric: str  # the registry gate's metric, which decides
    champion: dict[str, float]  # empty when the rows could not be scored
    challenger: dict[str, float]


@dataclass(frozen=True)
class ShadowComparison:
    source: str
    champion_versions: list[str]
    challenger_versions: list[str]
    rows: int  # champion rows paired with a shadow line: the rows compared
    champion_rows_without_shadow: int  # not shadowed (queue full), or not yet
    unmatched_shadow_lines: int  # no champion row in the window has their key
    skipped_shadow_lines: int  # unreadable, or without a prediction
    agreement: float | None  # share of the compared rows: None without rows
    agreement_rule: str
    mean_absolute_difference: float | None  # regression only
    drift: list[ColumnDrift]  # the challenger's predictions against the champion's
    performance: LabelledComparison | None  # None without delayed labels
    recommendation: str  # PROMOTE or KEEP
    reason: str

    @property
    def prediction_drift(self) -> bool:
        return any(c.drifted for c in self.drift)

    @property
    def promote(self) -> bool:
        return self.recommendation == PROMOTE

    def explain(self) -> str:
        """One sentence: the models, their agreement, the recommendation."""
        agreement = (
            "no rows to compare"
            if self.agreement is None
            else f"agreement {self.agreement:.1%} on {self.rows} rows"
        )
        return (
            f"champion {', '.join(self.champion_versions) or '?'} vs challenger "
            f"{', '.join(self.challenger_versions) or '?'}: {agreement}; "
            f"{self.recommendation} ({self.reason})"
        )

    def summary(self) -> dict:
        return {
            **asdict(self),
            "drift": drift_rows(self.drift),
            "prediction_drift": self.prediction_drift,
        }


def shadow_window(
    log_dir: Path, schema: Schema, hours: float, now: datetime | None = None
) -> Window | None:
    """The challenger's logged predictions over the window; None when there
    are none (shadow mode off)."""
    directory = log_dir / SHADOW_LOG_FOLDER
    if not any(directory.glob("predictions-*.jsonl")):
        return None
    end = (now or datetime.now(UTC)) + SHADOW_DELAY
    window = log_window(
        directory, schema, hours + SHADOW_DELAY / timedelta(hours=1), end
    )
    if window.frame.empty and not window.skipped_lines:
        return None  # logs of an earlier shadow, none in this window
    return replace(window, source=f"{directory} (last {hours:g} h)")


def compare_models(
    champion: pd.DataFrame,
    shadow: Window,
    schema: Schema,
    params: Params,
    labels: pd.DataFrame | None = None,
) -> ShadowComparison:
    """Compare the champion's logged rows with the shadow's lines."""
    settings = params.monitoring.shadow
    challenger = shadow.frame
    predicted = challenger[PREDICTION].notna()
    pairs = _pairs(champion, challenger[predicted])
    champion_side = _side(pairs, "champion")
    challenger_side = _side(pairs, "challenger")
    agreement, difference = _agreement(champion_side, challenger_side, schema, settings)
    drift = []
    if len(pairs):
        drift = prediction_drift(
            schema, params.monitoring, champion_side, challenger_side
        )
    comparison = ShadowComparison(
        source=shadow.source,
        champion_versions=_versions(champion_side),
        challenger_versions=_versions(challenger_side),
        rows=len(pairs),
        champion_rows_without_shadow=len(champion) - len(pairs),
        unmatched_shadow_lines=int(predicted.sum()) - len(pairs),
        skipped_shadow_lines=shadow.skipped_lines + int((~predicted).sum()),
        agreement=agreement,
        agreement_rule=_agreement_rule(schema, settings),
        mean_absolute_difference=difference,
        drift=drift,
        performance=None,
        recommendation=KEEP,
        reason="no delayed labels (--labels): the challenger's metrics are unknown",
    )
    if labels is None:
        return comparison
    return _judged(comparison, pairs, labels, schema, params)


def _pairs(champion: pd.DataFrame, challenger: pd.DataFrame) -> pd.DataFrame:
    """The two models' lines of the same rows, side by side (suffixes
    _champion and _challenger). A key seen twice on one side (a client that
    reuses X-Request-ID) cannot be paired: its rows are left out."""

    def unique(frame: pd.DataFrame) -> pd.DataFrame:
        frame = performance.keyed(frame).dropna(subset=[PREDICTION])
        frame = frame[[*KEYS, PREDICTION, "probabilities", "model_version"]]
        return frame.drop_duplicates(subset=KEYS, keep=False)

    return unique(champion).merge(
        unique(challenger), on=KEYS, suffixes=("_champion", "_challenger")
    )


def _side(pairs: pd.DataFrame, model: str, *shared: str) -> pd.DataFrame:
    """One model's half of the pairs, named as in the prediction log, with
    the `shared` columns (such as the label)."""
    columns = [PREDICTION, "probabilities", "model_version"]
    renamed = {f"{name}_{model}": name for name in columns}
    return pairs[[*KEYS, *renamed, *shared]].rename(columns=renamed)


def _versions(side: pd.DataFrame) -> list[str]:
    """The model versions, in the order the log met them."""
    return list(dict.fromkeys(side["model_version"].astype(str)))


def _agreement_rule(schema: Schema, settings: ShadowParams) -> str:
    if schema.is_classification:
        return "same predicted class"
    tolerance = settings.agreement_tolerance * 100
    return (
        f"predictions differ by at most {tolerance:g}% of the larger one "
        "(monitoring.shadow.agreement_tolerance)"
    )


def _agreement(
    champion: pd.DataFrame,
    challenger: pd.DataFrame,
    schema: Schema,
    settings: ShadowParams,
) -> tuple[float | None, float | None]:
    """(Share of rows on which the two agree, mean absolute difference of the
    predictions (regression only)); None without rows."""
    if champion.empty:
        return None, None
    if schema.is_classification:
        same = labels_as_text(champion[PREDICTION]) == labels_as_text(
            challenger[PREDICTION]
        )
        return float(same.mean()), None
    ours = pd.to_numeric(champion[PREDICTION], errors="coerce").to_numpy(float)
    theirs = pd.to_numeric(challenger[PREDICTION], errors="coerce").to_numpy(float)
    difference = np.abs(ours - theirs)
    larger = np.maximum(np.abs(ours), np.abs(theirs))
    close = difference <= settings.agreement_tolerance * larger  # NaN: disagree
    return float(close.mean()), float(np.nanmean(difference))


def _judged(
    comparison: ShadowComparison,
    pairs: pd.DataFrame,
    labels: pd.DataFrame,
    schema: Schema,
    params: Params,
) -> ShadowComparison:
    """Both models scored on the same labelled rows, and the recommendation."""
    metric = metrics.metric_for(schema.task, params.registry.gate.metric)
    labelled = performance.labelled_rows(pairs, labels)
    scores: dict[str, dict[str, float]] = {"champion": {}, "challenger": {}}
    problem = None
    if len(labelled):
        for model in scores:
            try:
                side = _side(labelled, model, schema.target.name)
                scores[model] = performance.scores(side, schema)
            except ProjectError as error:  # the shadow must not stop the monitor
                problem = f"{model}: {error}"
    scored = LabelledComparison(len(labelled), metric.name, **scores)
    recommendation, reason = _recommend(comparison, scored, problem, metric, params)
    return replace(
        comparison, performance=scored, recommendation=recommendation, reason=reason
    )


def _recommend(
    comparison: ShadowComparison,
    scored: LabelledComparison,
    problem: str | None,
    metric: metrics.Metric,
    params: Params,
) -> tuple[str, str]:
    """PROMOTE only when enough labelled rows show the challenger beating the
    champion by the gate's margin; KEEP otherwise, with the reason."""
    minimum = params.monitoring.shadow.min_labelled_rows
    margin = params.registry.gate.min_improvement
    for side in ("champion", "challenger"):
        versions = getattr(comparison, f"{side}_versions")
        if len(versions) > 1:  # metrics of two models at once decide nothing
            return KEEP, (
                f"the window holds {side} versions {', '.join(versions)}: "
                "compare one at a time (wait, or shorten monitoring.window_hours)"
            )
    if problem:
        return KEEP, f"cannot score the labelled rows of the {problem}"
    if scored.labelled_rows < minimum:
        return KEEP, (
            f"{scored.labelled_rows} labelled rows compared; promotion needs "
            f"monitoring.shadow.min_labelled_rows = {minimum}"
        )
    name = metric.name
    champion, challenger = scored.champion[name], scored.challenger[name]
    if not (math.isfinite(champion) and math.isfinite(challenger)):
        return KEEP, f"{name} is undefined on the labelled rows (one class only?)"
    figures = (
        f"{name} {challenger:.4g} (challenger) vs {champion:.4g} (champion) "
        f"on {scored.labelled_rows} labelled rows"
    )
    if metrics.beats(challenger, champion, metric, margin):
        return PROMOTE, (
            f"{figures}: better by more than register.gate.min_improvement {margin:g}"
        )
    return KEEP, f"{figures}: not better by register.gate.min_improvement {margin:g}"
