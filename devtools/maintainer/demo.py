"""The demo: generate a project with default answers and run its main job.

Renders the template into build/demo (replacing an earlier demo), creates the
project's environment with uv, runs the DVC pipeline (prepare, validate,
train, evaluate, register), predicts a file with the registered champion,
serves the champion on 127.0.0.1 and asks it for a prediction over HTTP,
sends it shifted traffic (`simulate-drift`), runs the monitoring job on the
prediction log, and prints the metrics, the champion and the drift verdict. Run it with `make demo`
(or `python -m devtools.maintainer.demo` in the template's environment).
"""

import json
import shutil
import time

import httpx

from devtools.testing.projects import (
    TEMPLATE_ROOT,
    free_port,
    in_project,
    project_answers,
    render,
    start_service,
    stop_service,
    sync,
    wait_until_ready,
)

DEMO_DIR = TEMPLATE_ROOT / "build" / "demo"


def step(title: str) -> float:
    print(f"\n==> {title}", flush=True)
    return time.perf_counter()


def main() -> None:
    started = step(f"Rendering the template with default answers into {DEMO_DIR}")
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    project = render(DEMO_DIR)
    slug = project_answers(project)["project_slug"]

    step("Creating the project's environment (uv sync)")
    sync(project)

    timer = step("Running the pipeline (uv run dvc repro)")
    print(in_project(project, "dvc", "repro").stdout[-1500:])
    pipeline_seconds = time.perf_counter() - timer

    step("Predicting a file with the champion (batch prediction)")
    in_project(project, "python", "-c", _WRITE_SAMPLE_INPUT)
    print(
        in_project(
            project,
            slug,
            "predict",
            "--input",
            "build/input.csv",
            "--output",
            "build/predictions.csv",
        ).stdout
    )

    step("Serving the champion over HTTP and asking for one prediction")
    port = free_port()
    service = start_service(project, slug, port)
    try:
        wait_until_ready(service, port)
        record = in_project(project, "python", "-c", _FIRST_INPUT_ROW).stdout
        answer = httpx.post(
            f"http://127.0.0.1:{port}/predict",
            content=record,
            headers={"content-type": "application/json"},
            timeout=30,
        )
        backend = httpx.get(f"http://127.0.0.1:{port}/metadata").json()["backend"]
        print(f"POST /predict {record.strip()}")
        print(f"-> {answer.status_code} {answer.text}  (backend: {backend})")

        step("Sending shifted traffic (simulate-drift, params.yaml monitoring.simulate)")
        url = f"http://127.0.0.1:{port}"
        print(in_project(project, slug, "simulate-drift", "--url", url).stdout)
    finally:
        stop_service(service)  # flushes the prediction log

    step("Monitoring the prediction log (monitor)")
    monitored = in_project(project, slug, "monitor", check=False)
    if monitored.returncode not in (0, 2):  # 2: drift, retrain recommended
        raise SystemExit(f"monitor failed:\n{monitored.stdout}{monitored.stderr}")
    print(monitored.stdout)

    step("Results")
    metrics = json.loads((project / "reports/metrics.json").read_text())
    registry = json.loads((project / "reports/registry.json").read_text())
    baseline = metrics.pop("baseline")
    print(f"  holdout rows {metrics.pop('holdout_rows')}")
    for name, value in metrics.items():
        floor = f"  (baseline {baseline[name]:.4f})" if name in baseline else ""
        print(f"  {name:<12} {value:.4f}{floor}")
    champion = f"{registry['model_name']} v{registry['champion_version']}"
    print(f"\n  champion: {champion} ({registry['reason']})")
    verdict = json.loads((project / "reports/monitoring/summary.json").read_text())
    print(f"  drift detected: {verdict['verdict']['drift_detected']}, drifted features:")
    print(f"    {', '.join(verdict['drifted_features']) or 'none'}")
    print(f"  drift report: {project / 'reports/monitoring/report.html'}")
    total = time.perf_counter() - started
    print(f"  pipeline {pipeline_seconds:.0f} s, whole demo {total:.0f} s")
    print(f"  the project is in {project}: cd there and try `uv run {slug} --help`")


# Twenty fresh rows from the sample generator, without the target column.
_WRITE_SAMPLE_INPUT = """
import pathlib, yaml, importlib
answers = yaml.safe_load(open('.copier-answers.yml'))
sample = importlib.import_module(answers['package_name'] + '.sample_data')
target = yaml.safe_load(open('schema.yaml'))['target']['name']
pathlib.Path('build').mkdir(exist_ok=True)
sample.generate(20, seed=2024).drop(columns=[target]).to_csv('build/input.csv', index=False)
"""

_FIRST_INPUT_ROW = """
import pandas as pd
print(pd.read_csv('build/input.csv').head(1).to_json(orient='records')[1:-1])
"""


if __name__ == "__main__":
    main()
