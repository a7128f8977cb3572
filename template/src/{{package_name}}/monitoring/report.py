"""The HTML report: one self-contained file (charts inlined as PNG) that opens
offline in any browser."""

import base64
import html
import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure  # no pyplot: no display, no global state

from ..schema import Schema
from .drift import category_counts
from .job import MonitorResult
from .performance import Performance
from .shadow import ShadowComparison
from .values import column

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
h1 { margin-bottom: 0.2rem; }
.verdict { padding: 0.8rem 1rem; border-radius: 6px; font-size: 1.2rem; }
.alarm { background: #fde2e1; border: 1px solid #d93025; }
.calm { background: #e6f4ea; border: 1px solid #188038; }
.advice { background: #e8f0fe; border: 1px solid #1a73e8; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.drifted td { background: #fde2e1; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; }
"""
REFERENCE_COLOR, CURRENT_COLOR = "#4c72b0", "#dd8452"


def render_html(
    result: MonitorResult,
    schema: Schema,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    title: str,
) -> str:
    alarm = result.retrain
    drifted = ", ".join(c.name for c in result.features if c.drifted) or "none"
    headline = (
        f"Retrain recommended: drifted features {drifted}"
        if alarm
        else "No drift detected"
    )
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{result.created} &middot; reference {result.reference_rows} rows "
        f"({html.escape(result.sources['reference'])}) &middot; current "
        f"{result.current_rows} rows ({html.escape(result.sources['current'])})</p>",
        f'<p class="verdict {"alarm" if alarm else "calm"}">{html.escape(headline)}'
        f" &middot; {result.drifted_share:.0%} of features drifted</p>",
        f'<p class="rules">{html.escape(result.dataset.explain())}</p>',
        "<h2>Feature drift</h2>",
        _drift_table(result.features),
        _image(_psi_chart(result.features), "PSI per feature"),
    ]
    if result.predictions:
        parts += ["<h2>Prediction drift</h2>", _drift_table(result.predictions)]
    parts += ["<h2>Data quality</h2>", _quality_table(result)]
    if result.performance:
        parts += [
            "<h2>Performance on delayed labels</h2>",
            _performance_table(result.performance),
        ]
    if result.shadow:
        parts += ["<h2>Champion vs challenger (shadow)</h2>", _shadow(result.shadow)]
    parts.append("<h2>Reference vs current</h2><div class='charts'>")
    for feature in schema.features:
        chart = _distribution_chart(feature, reference, current)
        parts.append(_image(chart, feature.name))
    parts.append("</div>")
    body = "\n".join(parts)
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def _number(value, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}g}"


def _drift_table(columns) -> str:
    head = (
        "<tr><th>column</th><th>test</th><th>p-value</th><th>alpha</th><th>PSI</th>"
        "<th>min PSI</th><th>severe PSI</th><th>distance</th><th>drifted</th></tr>"
    )
    rows = [
        f"<tr class='{'drifted' if c.drifted else ''}'><td>{html.escape(c.name)}</td>"
        f"<td>{c.test}</td><td>{_number(c.p_value)}</td>"
        f"<td>{c.thresholds.alpha}</td><td>{_number(c.psi)}</td>"
        f"<td>{c.thresholds.min_psi}</td>"
        f"<td>{_blank_none(c.thresholds.severe_psi)}</td>"
        f"<td>{_number(c.distance)}</td><td>{_drifted(c)}</td></tr>"
        for c in columns
    ]
    return f"<table>{head}{''.join(rows)}</table>"


def _blank_none(value) -> str:
    return "" if value is None else str(value)


def _drifted(column) -> str:
    if column.severe:
        return "yes (severe)"
    return "yes" if column.drifted else "no"


def _quality_table(result: MonitorResult) -> str:
    head = (
        "<tr><th>feature</th><th>missing</th><th>missing (reference)</th>"
        "<th>wrong type</th><th>out of range</th><th>unseen categories</th>"
        "<th>problems</th></tr>"
    )
    rows = [
        f"<tr class='{'drifted' if q.problems else ''}'>"
        f"<td>{html.escape(q.feature)}</td>"
        f"<td>{q.missing_share:.1%}</td><td>{q.reference_missing_share:.1%}</td>"
        f"<td>{q.invalid}</td><td>{q.out_of_range}</td><td>{q.unseen}</td>"
        f"<td>{html.escape('; '.join(q.problems))}</td></tr>"
        for q in result.quality
    ]
    note = (
        f"<p>{result.skipped_log_lines} unreadable log lines skipped.</p>"
        if result.skipped_log_lines
        else ""
    )
    return f"<table>{head}{''.join(rows)}</table>{note}"


def _performance_table(perf: Performance) -> str:
    rows = [
        f"<tr><td>{html.escape(name)}</td><td>{_number(value)}</td>"
        f"<td>{_number(perf.training.get(name))}</td></tr>"
        for name, value in perf.current.items()
    ]
    return (
        f"<p>{perf.labelled_rows} labelled rows; {perf.metric} is "
        f"{_number(perf.drop)} worse than at training time"
        f"{' (degraded)' if perf.degraded else ''}.</p>"
        "<table><tr><th>metric</th><th>current</th><th>training</th></tr>"
        f"{''.join(rows)}</table>"
    )


def _shadow(shadow: ShadowComparison) -> str:
    versions = (
        f"champion {', '.join(shadow.champion_versions) or '?'} vs challenger "
        f"{', '.join(shadow.challenger_versions) or '?'}"
    )
    agreement = (
        "nothing to compare"
        if shadow.agreement is None
        else f"they agree on {shadow.agreement:.1%} ({shadow.agreement_rule})"
    )
    if shadow.mean_absolute_difference is not None:
        difference = _number(shadow.mean_absolute_difference)
        agreement += f"; mean absolute difference {difference}"
    parts = [
        f"<p>{html.escape(versions)}, {shadow.rows} rows compared "
        f"({html.escape(shadow.source)}): {html.escape(agreement)}.</p>",
        f"<p>{shadow.champion_rows_without_shadow} champion rows without a shadow "
        f"line; {shadow.unmatched_shadow_lines} shadow lines matching no champion "
        f"row; {shadow.skipped_shadow_lines} unreadable shadow lines skipped.</p>",
        f'<p class="verdict advice">Recommendation: '
        f"{html.escape(shadow.recommendation)} ({html.escape(shadow.reason)}). "
        "Nothing is promoted by the monitor.</p>",
    ]
    if shadow.drift:
        parts += [
            "<h3>Challenger's predictions against the champion's</h3>",
            _drift_table(shadow.drift),
        ]
    scored = shadow.performance
    if scored and scored.champion:
        rows = [
            f"<tr><td>{html.escape(name)}</td><td>{_number(value)}</td>"
            f"<td>{_number(scored.challenger.get(name))}</td></tr>"
            for name, value in scored.champion.items()
        ]
        parts.append(
            f"<p>{scored.labelled_rows} labelled rows; {scored.metric} decides.</p>"
            "<table><tr><th>metric</th><th>champion</th><th>challenger</th></tr>"
            f"{''.join(rows)}</table>"
        )
    return "\n".join(parts)


def _psi_chart(columns):
    figure = Figure(figsize=(7, 0.35 * len(columns) + 1), layout="constrained")
    axes = figure.subplots()
    names = [c.name for c in columns]
    values = [c.psi or 0.0 for c in columns]
    colors = ["#d93025" if c.drifted else REFERENCE_COLOR for c in columns]
    axes.barh(names, values, color=colors)
    for c, y in zip(columns, range(len(columns)), strict=True):
        axes.plot([c.thresholds.min_psi] * 2, [y - 0.4, y + 0.4], color="black")
    axes.set_xlabel("population stability index (black: min_psi)")
    axes.invert_yaxis()
    return figure


def _distribution_chart(feature, reference: pd.DataFrame, current: pd.DataFrame):
    ref = column(reference[feature.name], feature).values
    cur = column(current[feature.name], feature).values
    figure = Figure(figsize=(4, 2.6), layout="constrained")
    axes = figure.subplots()
    if feature.type == "numeric" and len(ref) and len(cur):
        both = np.concatenate([ref.to_numpy(float), cur.to_numpy(float)])
        # A list: matplotlib's stubs take no array for the bin edges.
        bins = np.histogram_bin_edges(both, bins=30).tolist()
        for values, color, label in (
            (ref, REFERENCE_COLOR, "reference"),
            (cur, CURRENT_COLOR, "current"),
        ):
            axes.hist(values, bins, density=True, alpha=0.55, color=color, label=label)
    elif len(ref) and len(cur):
        labels, ref_counts, cur_counts = category_counts(ref, cur)
        positions = np.arange(len(labels))
        for offset, counts, color, label in (
            (-0.2, ref_counts, REFERENCE_COLOR, "reference"),
            (0.2, cur_counts, CURRENT_COLOR, "current"),
        ):
            shares = counts / counts.sum()
            axes.bar(positions + offset, shares, 0.4, color=color, label=label)
        axes.set_xticks(positions, labels, rotation=30, ha="right", fontsize=7)
    axes.set_title(feature.name, fontsize=9)
    axes.legend(fontsize=7)
    return figure


def _image(figure, alt: str) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    encoded = base64.b64encode(buffer.getvalue()).decode()
    return (
        f"<figure><img alt='{html.escape(alt)}' "
        f"src='data:image/png;base64,{encoded}'></figure>"
    )
