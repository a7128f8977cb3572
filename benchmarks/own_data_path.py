"""How long the README's "Bring your own data" path takes, step by step.

Renders the default project (binary classification, random forest), then
follows the README with the 24-column table of the own-data tests
(devtools/testing/own_data.py: an ID, timestamps, free text, gaps, rows without a
target) and times each step: environment, schema inference, validation,
`dvc add`, the first commit, `dvc repro`, the project's own tests, batch
prediction, serving, simulated drift and the monitor. The params.yaml edits
a person makes by hand are done here by the script (and not timed). Usage:
  .venv/bin/python -m benchmarks.own_data_path
"""

import tempfile
import time
from pathlib import Path

from devtools.testing.deep_project import first_commit
from devtools.testing.own_data import machines
from devtools.testing.projects import (
    free_port,
    in_project,
    project_answers,
    render,
    start_service,
    stop_service,
    sync,
    wait_until_ready,
)
from tests.deep.test_own_data import CASES, point_params_at

SOURCE = "data/raw/machines.csv"


def main() -> None:
    case = CASES["binary_classification"]
    times: list[tuple[str, float]] = []

    def timed(name: str, action) -> None:
        started = time.perf_counter()
        action()
        times.append((name, time.perf_counter() - started))

    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "project"
        timed("render (copier copy)", lambda: render(project))
        timed("uv sync", lambda: sync(project))
        slug = project_answers(project)["project_slug"]
        machines("binary_classification").to_csv(project / SOURCE, index=False)
        infer = (slug, "infer-schema", SOURCE, "--target", case.target, "--force")
        timed("infer-schema", lambda: in_project(project, *infer))
        point_params_at(project, {"source": "file", "path": SOURCE}, case)
        timed("validate the file", lambda: in_project(project, slug, "validate", SOURCE))
        timed("dvc add", lambda: in_project(project, "dvc", "add", SOURCE))
        timed("first commit", lambda: first_commit(project))
        timed("dvc repro", lambda: in_project(project, "dvc", "repro"))
        timed("uv run pytest", lambda: in_project(project, "pytest", "-q"))
        prediction = (slug, "predict", "-i", SOURCE, "-o", str(Path(scratch) / "out.csv"))
        timed("predict (1,500 rows)", lambda: in_project(project, *prediction))
        timed("serve, simulate-drift, monitor", lambda: serve_and_monitor(project, slug))
    width = max(len(name) for name, _ in times)
    for name, seconds in times:
        print(f"{name:<{width}}  {seconds:6.1f} s")
    print(f"{'total':<{width}}  {sum(seconds for _, seconds in times):6.1f} s")


def serve_and_monitor(project: Path, slug: str) -> None:
    port, logs = free_port(), project / "logs" / "benchmark"
    service = start_service(project, slug, port, {"SERVE_PREDICTION_LOG_DIR": str(logs)})
    try:
        wait_until_ready(service, port)
        url = f"http://127.0.0.1:{port}"
        in_project(project, slug, "simulate-drift", "--url", url, "--rows", "1000")
    finally:
        stop_service(service)
    monitor = (slug, "monitor", "--log-dir", str(logs))
    assert in_project(project, *monitor, check=False).returncode == 2


if __name__ == "__main__":
    main()
