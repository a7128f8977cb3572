"""How long the generated pipeline takes compared with a plain script doing the same fit.

Renders the default project (binary classification, random forest) into a
temporary directory, creates its environment, then in one run times:
  - benchmarks/plain_fit.py: data, split, the same ColumnTransformer and model, one metric;
  - `dvc repro -f`: all five stages (validation, MLflow tracking, model logging, registry);
  - `dvc repro` with nothing to do.
Prints seconds (median of --repeat runs) and the ratio. Usage:
  .venv/bin/python -m benchmarks.pipeline_vs_script [--repeat 3]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from devtools.testing.projects import in_project, render, sync

PLAIN_FIT = Path(__file__).with_name("plain_fit.py")


def timed(project: Path, *command: str) -> float:
    started = time.perf_counter()
    in_project(project, *command)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as scratch:
        project = render(Path(scratch) / "project")
        sync(project)
        in_project(project, "dvc", "repro")  # warm caches: imports, MLflow database
        plain = [timed(project, "python", str(PLAIN_FIT)) for _ in range(repeat)]
        full = [timed(project, "dvc", "repro", "--force") for _ in range(repeat)]
        noop = [timed(project, "dvc", "repro") for _ in range(repeat)]
    rows = [
        ("plain script (same fit)", statistics.median(plain)),
        ("dvc repro --force (5 stages)", statistics.median(full)),
        ("dvc repro, nothing changed", statistics.median(noop)),
    ]
    floor = rows[0][1]
    print(f"{'':32} {'seconds':>8} {'x plain':>8}")
    for name, seconds in rows:
        print(f"{name:32} {seconds:8.1f} {seconds / floor:8.1f}")


if __name__ == "__main__":
    main()
