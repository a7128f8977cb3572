"""Where the monitor's verdict goes besides the reports: Prometheus (a file
for node-exporter's textfile collector, and a Pushgateway when one is
configured) and GitHub Actions step outputs."""

import logging
import os
import time
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway
from prometheus_client import write_to_textfile as write_textfile

from .job import MonitorResult
from .shadow import ShadowComparison

log = logging.getLogger(__name__)


def verdict_registry(result: MonitorResult) -> CollectorRegistry:
    registry = CollectorRegistry()

    def gauge(name: str, text: str, value: float, **labels: str) -> None:
        metric = Gauge(name, text, list(labels), registry=registry)
        (metric.labels(**labels) if labels else metric).set(value)

    gauge(
        "monitor_drift_detected",
        "1 when data or prediction drift",
        result.drift_detected,
    )
    gauge("monitor_retrain_recommended", "1 when drift or degraded", result.retrain)
    gauge(
        "monitor_quality_problems",
        "1 when the inputs are broken",
        result.quality_problems,
    )
    gauge(
        "monitor_drifted_feature_share",
        "share of drifted features",
        result.drifted_share,
    )
    gauge("monitor_window_rows", "rows in the current window", result.current_rows)
    fired = Gauge(
        "monitor_data_drift_rule_fired",
        "1 when the rule (drift_share or severe_shift) made the data set drift",
        ["rule"],
        registry=registry,
    )
    for rule in result.dataset.rules():
        fired.labels(rule["rule"]).set(rule["fired"])
    gauge("monitor_last_run_timestamp_seconds", "end of the last run", time.time())
    psi = Gauge(
        "monitor_feature_psi", "PSI per feature", ["feature"], registry=registry
    )
    drifted = Gauge(
        "monitor_feature_drifted", "1 when drifted", ["feature"], registry=registry
    )
    for column in [*result.features, *result.predictions]:
        psi.labels(column.name).set(
            column.psi if column.psi is not None else float("nan")
        )
        drifted.labels(column.name).set(column.drifted)
    labelled = Gauge(
        "monitor_labelled_metric",
        "metrics on delayed labels (no samples without labels)",
        ["metric"],
        registry=registry,
    )
    scores = result.performance.current if result.performance else {}
    for name, value in scores.items():
        labelled.labels(name).set(value)
    if result.shadow:
        _shadow_gauges(result.shadow, registry)
    return registry


def _shadow_gauges(shadow: ShadowComparison, registry: CollectorRegistry) -> None:
    """Champion vs challenger; no samples when the service ran no shadow."""

    def gauge(name: str, text: str, labels: list[str] | None = None) -> Gauge:
        return Gauge(name, text, labels or [], registry=registry)

    gauge(
        "monitor_shadow_info",
        "1, labelled with the model versions compared",
        ["champion", "challenger"],
    ).labels(
        ",".join(shadow.champion_versions), ",".join(shadow.challenger_versions)
    ).set(1)
    gauge("monitor_shadow_rows", "rows both models predicted").set(shadow.rows)
    agreement = shadow.agreement if shadow.agreement is not None else float("nan")
    gauge(
        "monitor_shadow_agreement",
        "share of the compared rows on which champion and challenger agree",
    ).set(agreement)
    if shadow.mean_absolute_difference is not None:
        gauge(
            "monitor_shadow_mean_absolute_difference",
            "mean absolute difference of the two models' predictions",
        ).set(shadow.mean_absolute_difference)
    gauge(
        "monitor_shadow_unmatched_lines", "shadow lines matching no champion row"
    ).set(shadow.unmatched_shadow_lines)
    gauge("monitor_shadow_skipped_lines", "unreadable shadow log lines").set(
        shadow.skipped_shadow_lines
    )
    psi = gauge(
        "monitor_shadow_prediction_psi",
        "PSI of the challenger's predictions against the champion's",
        ["column"],
    )
    for column in shadow.drift:
        psi.labels(column.name).set(
            column.psi if column.psi is not None else float("nan")
        )
    gauge(
        "monitor_shadow_prediction_drift",
        "1 when the challenger's predictions drift from the champion's",
    ).set(shadow.prediction_drift)
    gauge(
        "monitor_shadow_promotion_recommended",
        "1 when the challenger beats the champion on enough delayed labels",
    ).set(shadow.promote)
    labelled = gauge(
        "monitor_shadow_labelled_metric",
        "both models' metrics on the same delayed labels",
        ["model", "metric"],
    )
    scored = shadow.performance
    for model, scores in (
        ("champion", scored.champion if scored else {}),
        ("challenger", scored.challenger if scored else {}),
    ):
        for name, value in scores.items():
            labelled.labels(model, name).set(value)


def export_prometheus(
    result: MonitorResult, textfile: Path, job: str, gateway: str | None = None
) -> None:
    """Write the textfile; push too to the Pushgateway at `gateway`
    (MONITOR_PUSHGATEWAY_URL). A failed push is a warning: the verdict has its
    other outputs."""
    registry = verdict_registry(result)
    textfile.parent.mkdir(parents=True, exist_ok=True)
    write_textfile(str(textfile), registry)
    if gateway:
        try:
            push_to_gateway(gateway, job=job, registry=registry)
        except OSError as error:  # the verdict must still reach its other outputs
            log.warning("cannot push to the Pushgateway at %s: %s", gateway, error)


def github_outputs(result: MonitorResult, report: Path) -> None:
    """Step outputs `drift`, `retrain`, `quality_problems`, `data_drift_rules`
    (the rules that fired, comma-separated, or none) and `report` when run by
    GitHub Actions."""
    # GitHub's protocol for step outputs, not a setting of the project.
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a") as outputs:
        outputs.write(f"drift={str(result.drift_detected).lower()}\n")
        outputs.write(f"retrain={str(result.retrain).lower()}\n")
        outputs.write(f"quality_problems={str(result.quality_problems).lower()}\n")
        fired = [rule["rule"] for rule in result.dataset.rules() if rule["fired"]]
        outputs.write(f"data_drift_rules={','.join(fired) or 'none'}\n")
        outputs.write(f"report={report}\n")
