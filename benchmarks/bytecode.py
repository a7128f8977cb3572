"""What bytecode caches save each command of a generated project.

Renders the default project into a temporary directory, creates its
environment, then alternately starts its Python importing what the train
stage imports (MLflow, scikit-learn, pandas) with no bytecode to read and
PYTHONDONTWRITEBYTECODE set (every process compiles those libraries from
source, as in the tests until 2026-12-02) and with it unset (the first
process writes the caches, later ones read them). The first, cache-writing
run is not timed. Prints medians and the ratio. Usage:
  .venv/bin/python -m benchmarks.bytecode [--repeat 5]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from devtools.testing.projects import given_or_fresh, run

IMPORTS = "import mlflow, pandas, sklearn.ensemble, sklearn.compose"


def seconds(python: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    run([str(python), "-c", IMPORTS], python.parent, env=env)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as scratch:
        project = given_or_fresh(None, Path(scratch))
        python = project / ".venv/bin/python"
        # An empty cache directory that is never written: nothing to read.
        empty = Path(scratch) / "no-bytecode"
        without = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": str(empty)}
        cached = {"PYTHONDONTWRITEBYTECODE": ""}
        seconds(python, cached)  # writes the caches
        timings: dict[str, list[float]] = {"compiled each time": [], "bytecode cached": []}
        for _ in range(repeat):
            timings["compiled each time"].append(seconds(python, without))
            timings["bytecode cached"].append(seconds(python, cached))
    medians = {label: statistics.median(values) for label, values in timings.items()}
    for label, median in medians.items():
        print(f"{label:20} {median:6.2f} s")
    ratio = medians["compiled each time"] / medians["bytecode cached"]
    print(f"ratio {ratio:.1f}x  ({IMPORTS})")


if __name__ == "__main__":
    main()
