"""Cold start and footprint of the serving image, side by side in one run.

Renders the default project (or takes --project, trained), exports its
champion, and builds environments the way images are built (no Docker):
  - image: the Dockerfile's own uv commands (the serving and batch groups,
    then the project), serving the exported folder with its model.onnx;
  - full env, converting: the project's whole runtime (what the image held
    before the serving group), serving the same model without model.onnx,
    so that it loads scikit-learn and converts at start;
  - mlflow models serve: the same exported model, in the project's env;
  - floor: a FastAPI app answering a constant, under the same uvicorn, in
    the image's environment: what any FastAPI service pays to start.
Each is started --repeat times, in turn; reported: the median seconds from
process start to the first answered prediction (the floor: first answer),
the resident memory of its processes then, and each environment's size
(and the image's without its batch group).

Usage: .venv/bin/python -m benchmarks.cold_start [--repeat 5] [--project DIR]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from devtools.testing.image import build_like_the_image
from devtools.testing.projects import (
    free_port,
    given_or_fresh,
    project_answers,
    project_env,
    python_option,
    run,
    sample_records,
    uv,
)

FLOOR_APP = """
from fastapi import FastAPI
app = FastAPI()
@app.post("/predict")
def predict(record: dict) -> dict:
    return {"prediction": 0}
"""


def installed_mb(venv: Path) -> float:
    files = (path for path in venv.rglob("*") if path.is_file() and not path.is_symlink())
    return sum(path.stat().st_size for path in files) / 1e6


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn's, mlflow's)."""
    listing = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,rss="], capture_output=True, text=True)
    rows = [tuple(map(int, line.split())) for line in listing.stdout.splitlines()]
    family, total = {pid}, 0
    for _ in range(3):  # children, grandchildren
        family |= {child for child, parent, _ in rows if parent in family}
    total = sum(rss for child, _, rss in rows if child in family)
    return total / 1024


def first_prediction(command, cwd, env, port, body) -> tuple[float, float]:
    """Seconds from start to the first 200 on POST /predict or /invocations,
    and the memory then."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**project_env(), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    path, payload = body
    try:
        while time.perf_counter() - start < 180:
            try:
                answer = httpx.post(f"http://127.0.0.1:{port}{path}", json=payload, timeout=5)
                if answer.status_code == 200:
                    return time.perf_counter() - start, tree_rss_mb(process.pid)
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode}")
            time.sleep(0.02)
        raise RuntimeError(f"{command[0]} gave no prediction in 180 s")
    finally:
        process.terminate()
        process.wait(60)


def full_environment(project: Path, directory: Path) -> Path:
    """The project's runtime as the image held it before: every dependency
    and both family extras, no dev tools."""
    venv = directory / "full-venv"
    extras = ["--extra", "lightgbm", "--extra", "xgboost"]
    env = {"UV_PROJECT_ENVIRONMENT": str(venv)}
    run([uv(), "sync", "--no-dev", "--no-editable", *extras, *python_option()], project, env=env)
    return venv


def serving_group_mb(project: Path, directory: Path) -> float:
    """The image's environment without the batch group, as an owner who
    scores elsewhere would build it."""
    venv = directory / "serving-venv"
    env = {"UV_PROJECT_ENVIRONMENT": str(venv)}
    run([uv(), "sync", "--only-group", "serving", *python_option()], project, env=env)
    return installed_mb(venv)


def contenders(project: Path, scratch: Path, image, full_venv: Path):
    """(name, command builder, cwd, env, body, environment) per contender."""
    slug = project_answers(project)["project_slug"]
    record = sample_records(project, 1)[0]
    converting = scratch / "model-without-onnx"
    shutil.copytree(image.app / "model", converting)
    for name in ("model.onnx", "serving.json"):
        (converting / name).unlink()
    (scratch / "floor_app.py").write_text(FLOOR_APP)
    logs = {"SERVE_PREDICTION_LOG_DIR": str(scratch / "logs"), "SERVE_RELOAD_SECONDS": "0"}
    ours = ("/predict", record)
    mlflow_body = ("/invocations", {"dataframe_records": [record]})

    def serve(venv: Path, model: Path):
        def command(port):
            env = {**logs, "SERVE_MODEL_URI": str(model)}
            return [str(venv / "bin" / slug), "serve", "--port", str(port)], env

        return command

    def mlflow(port):
        command = [str(full_venv / "bin" / "mlflow"), "models", "serve", "-m"]
        options = ["-h", "127.0.0.1", "-p", str(port), "-w", "1", "--env-manager", "local"]
        path = f"{full_venv / 'bin'}{os.pathsep}{os.environ['PATH']}"
        return [*command, str(image.app / "model"), *options], {"PATH": path}

    def floor(port):
        uvicorn = str(image.app / ".venv" / "bin" / "uvicorn")
        return [uvicorn, "floor_app:app", "--port", str(port)], {}

    venv = image.app / ".venv"
    return [
        ("image (exported ONNX)", serve(venv, image.app / "model"), image.app, ours, venv),
        ("full env, converting", serve(full_venv, converting), image.app, ours, full_venv),
        ("mlflow models serve", mlflow, image.app, mlflow_body, full_venv),
        ("floor: FastAPI constant", floor, scratch, ("/predict", record), venv),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="starts per contender (median)")
    parser.add_argument("--project", type=Path, help="an already trained generated project")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        project = given_or_fresh(args.project, scratch, trained=True)
        image = build_like_the_image(project, scratch / "image")
        full_venv = full_environment(project, scratch)
        runs: dict[str, list[tuple[float, float]]] = {}
        entries = contenders(project, scratch, image, full_venv)
        for _ in range(args.repeat):
            for name, build, cwd, body, _venv in entries:
                port = free_port()
                command, env = build(port)
                runs.setdefault(name, []).append(first_prediction(command, cwd, env, port, body))
        report(entries, runs)
        print(f"serving group alone (no batch group): {serving_group_mb(project, scratch):.0f} MB")


def report(entries, runs) -> None:
    results = {}
    for name, _build, _cwd, _body, venv in entries:
        seconds = statistics.median(s for s, _ in runs[name])
        memory = statistics.median(m for _, m in runs[name])
        results[name] = {"seconds": seconds, "rss_mb": memory, "env_mb": installed_mb(venv)}
    floor = results["floor: FastAPI constant"]["seconds"]
    print(f"{'':26} {'to 1st prediction s':>20} {'x floor':>8} {'RSS MB':>8} {'env MB':>8}")
    for name, result in results.items():
        print(
            f"{name:26} {result['seconds']:20.2f} {result['seconds'] / floor:8.2f}"
            f" {result['rss_mb']:8.0f} {result['env_mb']:8.0f}"
        )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
