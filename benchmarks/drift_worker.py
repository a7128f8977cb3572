"""One side of benchmarks/drift_vs_evidently.py, run in that side's own environment.

  generate DIR ROWS SEED  write DIR/reference.parquet and DIR/current.parquet
  ours DIR PACKAGE        the generated project's drift code (its monitoring job's loop)
  evidently DIR           Evidently: ValueDrift per column, K-S and chi-squared

The data: 10 numeric and 10 categorical columns, reference and current
windows drawn independently from the same distributions except the SHIFTED
columns (see `draw`). Each side reads the two files, then computes the drift
of every column REPEAT times, and prints one JSON line: the read seconds, the
seconds of each run, its peak RSS, and per column the p-value and verdict.
"""

import importlib
import importlib.metadata
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ALPHA = 0.01
REPEAT = 3
NUMERIC = [f"num_{i}" for i in range(10)]
CATEGORICAL = [f"cat_{i}" for i in range(10)]
SHIFTED = ["num_0", "num_1", "num_2", "cat_0", "cat_1", "cat_2"]


# Numbers: normal, log-normal, uniform, exponential, gamma; s is 1 for a shifted column.
NUMBERS = [
    lambda rng, rows, s: rng.normal(0.1 * s, 1.0, rows),
    lambda rng, rows, s: rng.lognormal(0.0, 0.5, rows) * (1 + 0.1 * s),
    lambda rng, rows, s: rng.uniform(0.0, 1 + 0.1 * s, rows),
    lambda rng, rows, s: rng.exponential(2.0, rows),
    lambda rng, rows, s: rng.gamma(3.0, 1.0, rows),
]


def draw(rng: np.random.Generator, rows: int, current: bool) -> pd.DataFrame:
    """num_i follows NUMBERS[i % 5]; cat_i has k = 3 + i % 6 categories "a", "b", ...
    with probabilities proportional to 1, 2, ..., k. Shifts in the current
    window: num_0 mean +0.1 sd, num_1 scale x1.1, num_2 uniform(0, 1) to
    uniform(0, 1.1); cat_0..cat_2 move 5 points of probability from their
    first category to their last. Every other column has the same
    distribution in both windows."""
    data = {}
    for i, name in enumerate(NUMERIC):
        data[name] = NUMBERS[i % 5](rng, rows, int(current and name in SHIFTED))
    for i, name in enumerate(CATEGORICAL):
        k = 3 + i % 6
        p = np.arange(1, k + 1) / (k * (k + 1) / 2)
        if current and name in SHIFTED:
            p[0], p[-1] = p[0] - 0.05, p[-1] + 0.05
        data[name] = np.array(list("abcdefgh"[:k]), dtype=object)[rng.choice(k, rows, p=p)]
    return pd.DataFrame(data)


def generate(directory: Path, rows: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    draw(rng, rows, current=False).to_parquet(directory / "reference.parquet")
    draw(rng, rows, current=True).to_parquet(directory / "current.parquet")


def ours(package: str):
    """The monitoring job's own code path: job.feature_drift over a schema."""
    job = importlib.import_module(f"{package}.monitoring.job")
    schema_module = importlib.import_module(f"{package}.schema")
    settings_module = importlib.import_module(f"{package}.settings")
    features = [schema_module.Feature(name=n, type="numeric") for n in NUMERIC] + [
        schema_module.Feature(name=n, type="categorical", categories=list("abcdefgh"))
        for n in CATEGORICAL
    ]
    schema = schema_module.Schema(
        task="regression", target=schema_module.Target(name="y"), features=features
    )
    # The p-value test alone (min_psi 0), as Evidently decides; `simulate` is
    # required by the settings but unused here.
    shift = settings_module.SimulatedShift(
        numeric_feature=NUMERIC[0],
        numeric_factor=1.0,
        categorical_feature=CATEGORICAL[0],
        category="a",
        category_share=0.1,
    )
    settings = settings_module.MonitoringParams(alpha=ALPHA, min_psi=0.0, simulate=shift)

    def compute(reference: pd.DataFrame, current: pd.DataFrame) -> list:
        return job.feature_drift(schema, settings, reference, current)

    def verdicts(results: list) -> dict:
        return {r.name: {"p_value": r.p_value, "drifted": r.drifted} for r in results}

    return compute, verdicts


def evidently():
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift

    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    metrics = [ValueDrift(column=n, method="ks", threshold=ALPHA) for n in NUMERIC] + [
        ValueDrift(column=n, method="chisquare", threshold=ALPHA) for n in CATEGORICAL
    ]

    def compute(reference: pd.DataFrame, current: pd.DataFrame):
        return Report(metrics, include_tests=True).run(
            current_data=Dataset.from_pandas(current, data_definition=definition),
            reference_data=Dataset.from_pandas(reference, data_definition=definition),
        )

    def verdicts(snapshot) -> dict:
        """The p-value is the metric's value; the drift verdict its test's status."""
        result = snapshot.dict()
        failed = {
            test["metric_config"]["params"]["column"]: test["status"] == "FAIL"
            for test in result["tests"]
        }
        return {
            metric["config"]["column"]: {
                "p_value": float(metric["value"]),
                "drifted": failed[metric["config"]["column"]],
            }
            for metric in result["metrics"]
        }

    return compute, verdicts


def main() -> None:
    side, directory = sys.argv[1], Path(sys.argv[2])
    if side == "generate":
        generate(directory, int(sys.argv[3]), int(sys.argv[4]))
        print(json.dumps({"shifted": SHIFTED}))
        return
    compute, verdicts = ours(sys.argv[3]) if side == "ours" else evidently()
    started = time.perf_counter()
    reference = pd.read_parquet(directory / "reference.parquet")
    current = pd.read_parquet(directory / "current.parquet")
    read_seconds = time.perf_counter() - started
    seconds = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        result = compute(reference, current)
        seconds.append(time.perf_counter() - started)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    versions = {"pandas": pd.__version__}
    if side == "evidently":
        versions["evidently"] = importlib.metadata.version("evidently")
    print(
        json.dumps(
            {
                "read_seconds": read_seconds,
                "seconds": seconds,
                "peak_mb": peak_mb,
                "versions": versions,
                "columns": verdicts(result),
            }
        )
    )


if __name__ == "__main__":
    main()
