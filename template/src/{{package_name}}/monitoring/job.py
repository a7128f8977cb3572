"""The monitoring job: compare the current window with the reference, write
the reports, and say whether to retrain."""

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import pandas as pd

from ..errors import ProjectError
from ..predict import load_model, predict_frame
from ..schema import Feature, Schema
from ..settings import PREDICTION, MonitoringParams, Params
from . import performance
from .data_quality import FeatureQuality, window_quality
from .drift import (
    ColumnDrift,
    DatasetDrift,
    Thresholds,
    categorical_drift,
    dataset_drift,
    drift_rows,
    numeric_drift,
)
from .predictions import prediction_drift
from .shadow import ShadowComparison, compare_models
from .values import column
from .windows import Window


@dataclass
class MonitorResult:
    features: list[ColumnDrift]
    predictions: list[ColumnDrift]
    dataset: DatasetDrift
    quality: list[FeatureQuality]
    performance: performance.Performance | None
    current_rows: int
    reference_rows: int
    sources: dict[str, str]
    skipped_log_lines: int
    created: str
    # Champion vs challenger when the service ran a shadow model: reported,
    # never part of the verdict (a challenger is no reason to retrain).
    shadow: ShadowComparison | None = None

    @property
    def data_drift(self) -> bool:
        return self.dataset.detected

    @property
    def drifted_share(self) -> float:
        return self.dataset.share

    @property
    def prediction_drift(self) -> bool:
        return any(c.drifted for c in self.predictions)

    @property
    def drift_detected(self) -> bool:
        return self.data_drift or self.prediction_drift

    @property
    def retrain(self) -> bool:
        degraded = self.performance is not None and self.performance.degraded
        return self.drift_detected or degraded

    @property
    def quality_problems(self) -> bool:
        """Broken inputs: the drift verdict alone cannot be trusted."""
        return self.skipped_log_lines > 0 or any(q.problems for q in self.quality)

    def summary(self) -> dict:
        """JSON-ready: every figure, and the verdicts."""
        return {
            "created": self.created,
            "verdict": {
                "drift_detected": self.drift_detected,
                "data_drift": self.data_drift,
                "data_drift_reason": self.dataset.explain(),
                "data_drift_rules": self.dataset.rules(),
                "prediction_drift": self.prediction_drift,
                "performance_degraded": bool(
                    self.performance and self.performance.degraded
                ),
                "retrain": self.retrain,
                "quality_problems": self.quality_problems,
            },
            "drifted_features": [c.name for c in self.features if c.drifted],
            "drifted_share": self.drifted_share,
            "rows": {"reference": self.reference_rows, "current": self.current_rows},
            "sources": self.sources,
            "features": drift_rows(self.features),
            "predictions": drift_rows(self.predictions),
            "quality": [asdict(q) for q in self.quality],
            "skipped_log_lines": self.skipped_log_lines,
            "performance": asdict(self.performance) if self.performance else None,
            "shadow": self.shadow.summary() if self.shadow else None,
        }


def feature_drift(
    schema: Schema,
    settings: MonitoringParams,
    reference: pd.DataFrame,
    current: pd.DataFrame,
) -> list[ColumnDrift]:
    """Drift of every schema feature, with its own thresholds. Columns run in
    parallel threads: sorting and counting happen in numpy, pandas and scipy,
    which release the GIL."""

    def drift_of(feature: Feature) -> ColumnDrift:
        ref = column(reference[feature.name], feature).values
        cur = column(current[feature.name], feature).values
        test = numeric_drift if feature.type == "numeric" else categorical_drift
        limits = Thresholds(*settings.thresholds(feature.name))
        return test(feature.name, feature.type, ref, cur, limits)

    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        return list(pool.map(drift_of, schema.features))


def run_monitor(
    params: Params,
    schema: Schema,
    reference: Window,
    current: Window,
    model_uri: str,
    holdout: Window | None = None,
    labels: pd.DataFrame | None = None,
    say: Callable[[str], None] = lambda message: None,
    shadow: Window | None = None,
) -> MonitorResult:
    """Compare `current` with `reference`. Prediction drift needs `holdout`,
    rows the model did not train on: its predictions on its own training rows
    are more confident than on any new data, so they are no reference.
    `shadow`, the challenger's lines of the same log, is compared with the
    champion's rows of `current`."""
    settings = params.monitoring
    _check_threshold_names(settings, schema)
    rows = len(current.frame)
    if rows < settings.min_rows:
        raise ProjectError(
            f"{current.source}: {rows} rows in the window; drift tests need at "
            f"least monitoring.min_rows = {settings.min_rows}"
        )
    say(f"reference {len(reference.frame)} rows, current {rows} rows")
    features = feature_drift(schema, settings, reference.frame, current.frame)
    dataset = dataset_drift(features, settings.drift_share, settings.severe_psi)

    predictions: list[ColumnDrift] = []
    frame = current.frame
    predicted = current.predicted and frame[PREDICTION].notna().any()
    if holdout is not None and predicted:  # logs or scores, not a plain file
        say(f"predicting {holdout.source} with {model_uri}")
        model = load_model(model_uri)
        reference_predictions = predict_frame(model, holdout.frame, schema)
        predictions = prediction_drift(
            schema, settings, reference_predictions, current.frame
        )

    result_performance = None
    if labels is not None:
        if "request_id" not in current.frame:
            raise ProjectError(
                "delayed labels join the prediction log on request_id and row: "
                "give the log (--log-dir), not a file (--current, --batch-output)"
            )
        say(f"scoring {len(labels)} delayed labels")
        result_performance = performance.labelled_performance(
            current.frame, labels, schema, params, performance.training_metrics()
        )

    comparison = None
    if shadow is not None:
        say(f"comparing the champion with the shadow model in {shadow.source}")
        comparison = compare_models(current.frame, shadow, schema, params, labels)
    return MonitorResult(
        features=features,
        predictions=predictions,
        dataset=dataset,
        quality=window_quality(schema, reference.frame, current.frame),
        performance=result_performance,
        current_rows=rows,
        reference_rows=len(reference.frame),
        sources={"reference": reference.source, "current": current.source},
        skipped_log_lines=current.skipped_lines,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        shadow=comparison,
    )


def _check_threshold_names(settings: MonitoringParams, schema: Schema) -> None:
    known = {*schema.feature_names, PREDICTION}
    unknown = sorted(set(settings.features) - known)
    if unknown:
        raise ProjectError(
            f"params.yaml monitoring.features names unknown feature(s) {unknown}; "
            f"known: {sorted(known)}"
        )
