"""Drift benchmark: the generated project's drift tests against Evidently, in one run.

Renders the default project and creates its environment (or uses --project),
creates an Evidently 0.7 environment with uv (pandas<3: Evidently 0.7 does not
import with pandas 3), then:
  - writes a reference and a current window of --rows rows each to Parquet
    (seeded; 10 numeric and 10 categorical columns with 3 to 8 categories;
    num_0..num_2 and cat_0..cat_2 shifted, the rest not: see drift_worker.draw);
  - in one process per side, reads both files and computes every column's
    drift three times: ours (the monitoring job's own feature_drift: the
    tests, PSI and distances, columns in threads; alpha 0.01 and min_psi 0,
    so the verdict is the p-value test alone) and Evidently (Dataset.from_pandas and a Report
    of one ValueDrift per column: "ks" for numbers, "chisquare" for
    categories, threshold 0.01).
Prints the median drift seconds (reading the files excluded, shown apart),
each side's peak RSS (ru_maxrss: libraries and data included), the ratio
Evidently / ours (target >= 5) and each column's p-values and verdicts, then
a JSON line. Exits 1 when a column's verdicts differ.

Both sides call scipy's ks_2samp: same p-values. The chi-squared tests differ:
ours tests the homogeneity of the two windows (chi2_contingency), Evidently's
"chisquare" the current counts against the reference proportions taken as
exact (scipy.stats.chisquare). With windows of equal size its statistic is
about twice ours, so on unshifted columns it flags drift more often than alpha.

Usage: .venv/bin/python -m benchmarks.drift_vs_evidently [--rows 1000000] [--seed 0]
  [--project DIR] [--evidently-env DIR]
"""

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from devtools.testing.projects import (
    given_or_fresh,
    in_project,
    project_answers,
    run,
    virtual_environment,
)

WORKER = Path(__file__).with_name("drift_worker.py")
EVIDENTLY = ["evidently>=0.7,<0.8", "pandas<3", "pyarrow"]
DEFAULT_ENV = Path(tempfile.gettempdir()) / "copier-mlops-evidently-env"
TIMEOUT = 3600


def evidently_python(directory: Path) -> Path:
    """The interpreter of an environment with Evidently, created on first use."""
    return virtual_environment(directory, *EVIDENTLY)


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per window")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--project", type=Path, help="a generated project with its .venv")
    parser.add_argument("--evidently-env", type=Path, default=DEFAULT_ENV)
    args = parser.parse_args()

    evidently = [str(evidently_python(args.evidently_env.resolve())), str(WORKER)]
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        project = given_or_fresh(args.project, scratch)
        package = project_answers(project)["package_name"]
        data = scratch / "data"
        data.mkdir()
        ours = ["python", str(WORKER)]
        generated = in_project(
            project, *ours, "generate", str(data), str(args.rows), str(args.seed)
        )
        results = {
            "shifted": last_json(generated.stdout)["shifted"],
            "ours": last_json(
                in_project(project, *ours, "ours", str(data), package, timeout=TIMEOUT).stdout
            ),
            "evidently": last_json(
                run([*evidently, "evidently", str(data)], data, timeout=TIMEOUT).stdout
            ),
        }
    if not report(args.rows, results):
        raise SystemExit(1)


def yes(flag: bool) -> str:
    return "yes" if flag else "no"


def report(rows: int, results: dict) -> bool:
    """Print the figures; True when every column's verdicts agree."""
    ours, theirs = results["ours"], results["evidently"]
    print(f"{rows:,} rows per window (reference and current), 20 columns:")
    print("10 numeric (Kolmogorov-Smirnov), 10 categorical (chi-squared); alpha 0.01\n")
    print(f"{'side':34} {'drift s':>8} {'read s':>7} {'peak MB':>8}")
    labels = {"ours": "ours", "evidently": f"Evidently {theirs['versions']['evidently']}"}
    for name, side in (("ours", ours), ("evidently", theirs)):
        side["median_seconds"] = statistics.median(side["seconds"])
        label = f"{labels[name]} (pandas {side['versions']['pandas']})"
        figures = f"{side['median_seconds']:8.2f} {side['read_seconds']:7.2f}"
        print(f"{label:34} {figures} {side['peak_mb']:8.0f}")
    ratio = theirs["median_seconds"] / ours["median_seconds"]
    print(f"\nEvidently / ours (drift seconds, median of 3): {ratio:.1f}x [target >= 5]\n")

    print(f"{'column':8} {'shifted':>7} {'ours p':>10} drift {'Evidently p':>11} drift")
    differ = []
    for column, mine in ours["columns"].items():
        other = theirs["columns"][column]
        line = (
            f"{column:8} {yes(column in results['shifted']):>7}"
            f" {mine['p_value']:10.3g} {yes(mine['drifted']):>5}"
            f" {other['p_value']:11.3g} {yes(other['drifted']):>5}"
        )
        if mine["drifted"] != other["drifted"]:
            differ.append(column)
            line += "  DIFFERENT"
        print(line)
    total = len(ours["columns"])
    print(f"\nVerdicts agree on {total - len(differ)} of {total} columns")
    if any(column.startswith("cat") for column in differ):
        print("(chi-squared: Evidently tests goodness of fit, ours homogeneity: see the docstring)")
    print("\n" + json.dumps({"rows": rows, "ratio": ratio, "disagreements": differ, **results}))
    return not differ


if __name__ == "__main__":
    main()
