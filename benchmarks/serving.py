"""Serving benchmark: the generated service against `mlflow models serve`, in one run.

Renders the default project (binary classification, random forest, which
converts to ONNX), trains it, exports the champion, then measures:
  - the in-process floor: scikit-learn and ONNX predict, 1 row and 1000 rows;
  - `mlflow models serve` and the generated service, 1 and 2 workers:
    single records at concurrency 1 and 16, and 1000-row batches;
  - the HTTP floor: the same server and worker count answering GET /health;
  - the bare ASGI floor (asgi_floor.py): no framework, a constant answer,
    under the same uvicorn options and worker count; and the framework's
    floor (fastapi_floor.py): a plain FastAPI route answering that constant;
  - with --peers, BentoML and MLServer in environments of their own, on the
    scikit-learn pipeline and on the same model.onnx (serving_peers.py).
Every server's start-up time (to ready) and memory after the loads too.
Load comes from wrk (Debian package `wrk`) on 127.0.0.1. Prints req/s, p50,
p99, rows/s and the ratios the serving issue sets as targets.

Every load runs --repeat times; the run with the median req/s is reported.

With --before DIR, compares two versions of the generated service instead:
the service of DIR (a trained project, e.g. rendered from an older template)
and of --project (or a fresh render), serving the same exported model under
the same loads, 1 and 2 workers, in one run; prints after/before ratios.

With --shadow, compares the service of --project without ("before") and with
("after") a shadow model (SERVE_SHADOW_MODEL_URI, the same exported model):
what shadow mode costs the champion's answers.

Usage: .venv/bin/python -m benchmarks.serving [--seconds 8] [--repeat 3] [--project DIR]
       [--peers | --before DIR | --shadow]
"""

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.serving_peers import BACKENDS, peer_bodies, peer_command, peer_environments
from devtools.testing.projects import (
    free_port,
    given_or_fresh,
    in_project,
    project_answers,
    project_env,
    sample_records,
)

HERE = Path(__file__).resolve().parent
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str, body: Path | None, connections: int, seconds: int) -> dict:
    threads = min(connections, 2)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    env = dict(os.environ)
    if body is not None:
        command[1:1] = ["-s", str(HERE / "post.lua")]
        env["BODY_FILE"] = str(body)
    output = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        raise RuntimeError(f"{url}: {non_2xx.group(1)} error responses\n{output}")

    def found(pattern: str) -> re.Match[str]:
        match = re.search(pattern, output)
        if match is None:
            raise RuntimeError(f"{url}: no {pattern!r} in wrk's output\n{output}")
        return match

    def latency(percent: str) -> float:
        value, unit = found(rf"\s{percent}%\s+([\d.]+)(us|ms|s)").groups()
        return float(value) * UNITS[unit]

    rps = float(found(r"Requests/sec:\s+([\d.]+)").group(1))
    return {"rps": rps, "p50_ms": latency("50"), "p99_ms": latency("99")}


def median_run(runs: list[dict]) -> dict:
    """The run with the median req/s: with two workers, how the kernel happens
    to spread wrk's connections between them moves one run a lot."""
    return sorted(runs, key=lambda run: run["rps"])[len(runs) // 2]


def load_plan(bodies: dict) -> dict[str, tuple[str, Path | None, int]]:
    """Each load: the path, the body (None: GET) and wrk's connections."""
    single, batch = bodies["url_single"], bodies["url_batch"]
    plan = {
        "single_c1": (single, bodies["single"], 1),
        "single_c16": (single, bodies["single"], 16),
        "batch_c1": (batch, bodies["batch"], 1),
    }
    if floor := bodies.get("url_floor", "/health"):  # peers have none
        plan |= {"floor_c1": (floor, None, 1), "floor_c16": (floor, None, 16)}
    return plan


def start(command: list[str], cwd: Path, port: int, ready_path: str, env=None):
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**project_env(), **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: stop() ends its workers too
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError(f"{command[0]} did not become ready")


def stop(process) -> None:
    """End the server and every process it started: workers that outlive
    it (mlflow's, still answering a backlog) would load the next server's run."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants (workers, runners)."""
    listing = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,rss="], capture_output=True, text=True)
    rows = [tuple(map(int, line.split())) for line in listing.stdout.splitlines()]
    family = {pid}
    for _ in range(4):
        family |= {child for child, parent, _ in rows if parent in family}
    return sum(rss for child, _, rss in rows if child in family) / 1024


def measure_server(
    name, command, cwd, port, env, bodies, seconds, repeat, ready_path="/ready"
) -> dict:
    """Each load's median run, and the process's start-up time (to ready)
    and memory (after the loads) under "process"."""
    started = time.monotonic()
    process = start(command, cwd, port, ready_path, env)
    startup = time.monotonic() - started
    base = f"http://127.0.0.1:{port}"
    try:
        results: dict = {
            load: median_run([wrk(base + path, body, conns, seconds) for _ in range(repeat)])
            for load, (path, body, conns) in load_plan(bodies).items()
        }
        results["process"] = {"startup_s": startup, "rss_mb": tree_rss_mb(process.pid)}
    finally:
        stop(process)
    results["batch_c1"]["rows_per_s"] = results["batch_c1"]["rps"] * 1000
    return results


def write_bodies(project: Path, scratch: Path) -> tuple[dict, dict]:
    records = sample_records(project, 1000, seed=99)
    files = {}
    for name, body in {
        "ours_single": records[0],
        "ours_batch": {"records": records},
        "mlflow_single": {"dataframe_records": records[:1]},
        "mlflow_batch": {"dataframe_records": records},
    }.items():
        files[name] = scratch / f"{name}.json"
        files[name].write_text(json.dumps(body))
    ours: dict[str, Path | str] = {"single": files["ours_single"], "batch": files["ours_batch"]}
    ours |= {"url_single": "/predict", "url_batch": "/predict/batch"}
    mlflow: dict[str, Path | str] = {
        "single": files["mlflow_single"],
        "batch": files["mlflow_batch"],
    }
    mlflow |= {"url_single": "/invocations", "url_batch": "/invocations"}
    return ours, mlflow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="runs per load (median)")
    parser.add_argument("--project", type=Path, help="an already trained generated project")
    parser.add_argument(
        "--before", type=Path, help="a trained project whose service --project's is compared to"
    )
    parser.add_argument(
        "--peers", action="store_true", help="also BentoML and MLServer (serving_peers.py)"
    )
    parser.add_argument(
        "--shadow",
        action="store_true",
        help="compare --project's service without and with a shadow",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        project = given_or_fresh(args.project, scratch, trained=True)
        services: dict[str, tuple[Path, dict]] = {}
        if args.before is not None:
            services = {"before": (args.before, {}), "after": (project, {})}
        elif args.shadow:
            shadow = {"SERVE_SHADOW_MODEL_URI": str(scratch / "model")}
            services = {"before": (project, {}), "after": (project, shadow)}
        if services:
            return report_comparison(compare(services, scratch, args))
        slug = project_answers(project)["project_slug"]
        model = scratch / "model"
        in_project(project, slug, "export-model", "--output", str(model))
        floor = json.loads(
            in_project(project, "python", str(HERE / "in_process.py"), str(model)).stdout
        )
        ours_bodies, mlflow_bodies = write_bodies(project, scratch)
        venv = project / ".venv" / "bin"
        # mlflow starts `uvicorn` by name: the project's venv must be on PATH.
        path = {"PATH": f"{venv}{os.pathsep}{os.environ['PATH']}"}
        results = {"in_process": floor}
        for workers in (1, 2):
            port = free_port()
            results[f"mlflow_w{workers}"] = measure_server(
                "mlflow",
                [
                    str(venv / "mlflow"),
                    "models",
                    "serve",
                    "-m",
                    str(model),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-w",
                    str(workers),
                    "--env-manager",
                    "local",
                ],
                project,
                port,
                path,
                mlflow_bodies,
                args.seconds,
                args.repeat,
                ready_path="/health",
            )
            load = (ours_bodies, args.seconds, args.repeat)
            results[f"ours_w{workers}"] = measure_ours(project, model, workers, scratch, *load)
            for floor_app in ("asgi", "fastapi"):
                results[f"{floor_app}_w{workers}"] = measure_floor_app(
                    floor_app, project, workers, *load
                )
        if args.peers:
            results |= measure_peers(project, model, scratch, args)
    report(results)


def measure_peers(project: Path, model: Path, scratch: Path, args) -> dict:
    """BentoML and MLServer on the scikit-learn and the ONNX model, 1 and 2
    workers: results keyed `<peer>_<backend>_w<workers>`."""
    environments = peer_environments(project, scratch)
    bodies = peer_bodies(sample_records(project, 1000, seed=99), scratch)
    schema = project / "schema.yaml"
    results = {}
    for workers in (1, 2):
        for peer, bin_dir in environments.items():
            for backend in BACKENDS:
                command, port, env, ready = peer_command(
                    peer, bin_dir, model, schema, backend, workers, scratch
                )
                load = (bodies[peer], args.seconds, args.repeat)
                try:
                    measured = measure_server(
                        peer, command, scratch, port, env, *load, ready_path=ready
                    )
                except RuntimeError as error:  # e.g. MLServer's pool at 2 workers
                    measured = {"error": str(error).splitlines()[0]}
                results[f"{peer}_{backend}_w{workers}"] = measured
    return results


def ours_command(project, model, workers, scratch, name=None) -> tuple[list[str], int, dict]:
    """How to start the generated service of `project` serving `model`: the
    command, its port and its environment (its prediction log in a folder
    of its own, `name`'s or the project's)."""
    venv = project / ".venv" / "bin"
    slug = project_answers(project)["project_slug"]
    port = free_port()
    env = {
        "PATH": f"{venv}{os.pathsep}{os.environ['PATH']}",
        "SERVE_MODEL_URI": str(model),
        "SERVE_PREDICTION_LOG_DIR": str(scratch / "logs" / (name or project.name)),
    }
    command = [str(venv / slug), "serve", "--host", "127.0.0.1", "--port", str(port)]
    return [*command, "--workers", str(workers)], port, env


def measure_ours(project, model, workers, scratch, bodies, seconds, repeat) -> dict:
    """The generated service of `project` serving the exported `model`."""
    command, port, env = ours_command(project, model, workers, scratch)
    return measure_server("ours", command, project, port, env, bodies, seconds, repeat)


def measure_floor_app(name, project, workers, bodies, seconds, repeat) -> dict:
    """benchmarks/<name>_floor.py under the project's uvicorn, with the
    service's HTTP protocol and event loop, answering every load's requests."""
    venv = project / ".venv" / "bin"
    port = free_port()
    command = [str(venv / "uvicorn"), f"benchmarks.{name}_floor:app"]
    command += ["--app-dir", str(HERE.parent)]
    options = ["--http", "httptools", "--loop", "uvloop", "--no-access-log"]
    command += [*options, "--port", str(port), "--workers", str(workers)]
    return measure_server(name, command, project, port, {}, bodies, seconds, repeat)


def compare(services: dict[str, tuple[Path, dict]], scratch: Path, args) -> dict:
    """Two services ("before" and "after": a project and extra environment
    each) on the same model (exported by "before"'s project) and bodies, up
    side by side; each load's runs alternate between them (before first on
    even turns, after first on odd ones), so neither gains from going first
    or from the machine's state drifting during the run."""
    model = scratch / "model"
    first = services["before"][0]
    slug = project_answers(first)["project_slug"]
    in_project(first, slug, "export-model", "--output", str(model))
    bodies, _ = write_bodies(first, scratch)
    results = {}
    for workers in (1, 2):
        bases, processes = {}, []
        try:
            for name, (project, extra_env) in services.items():
                command, port, env = ours_command(project, model, workers, scratch, name)
                processes.append(start(command, project, port, "/ready", env | extra_env))
                bases[name] = f"http://127.0.0.1:{port}"
            runs: dict[str, dict[str, list[dict]]] = {name: {} for name in services}
            for load, (path, body, conns) in load_plan(bodies).items():
                for turn in range(args.repeat):
                    order = ["before", "after"] if turn % 2 == 0 else ["after", "before"]
                    for name in order:
                        run = wrk(bases[name] + path, body, conns, args.seconds)
                        runs[name].setdefault(load, []).append(run)
        finally:
            for process in processes:
                stop(process)
        for name in services:
            results[f"{name}_w{workers}"] = {
                load: median_run(load_runs) for load, load_runs in runs[name].items()
            }
    return results


def report_comparison(results: dict) -> None:
    print(f"{'service':10} {'load':12} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for server, loads in sorted(results.items()):
        for load, r in loads.items():
            print(f"{server:10} {load:12} {r['rps']:9.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f}")
    print("\nAfter / before (req/s: higher is better; p50: lower is better):")
    for workers in (1, 2):
        before, after = results[f"before_w{workers}"], results[f"after_w{workers}"]
        for load in before:
            rps = after[load]["rps"] / before[load]["rps"]
            p50 = after[load]["p50_ms"] / before[load]["p50_ms"]
            print(f"  {workers} worker(s) {load:12} req/s {rps:6.3f}   p50 {p50:6.3f}")
    print("\n" + json.dumps(results))


def report(results: dict) -> None:
    floor = results["in_process"]
    print("In-process floor (exported champion, 1000 sample rows):")
    for backend in ("sklearn", "onnx"):
        print(
            f"  {backend:8} 1 row {floor[f'{backend}_1_row_ms']:8.3f} ms   "
            f"1000 rows {floor[f'{backend}_1000_rows_per_s']:10.0f} rows/s"
        )
    print(f"\n{'server':12} {'load':12} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'rows/s':>10}")
    for server, loads in results.items():
        if server == "in_process":
            continue
        if "error" in loads:
            print(f"{server:12} failed: {loads['error']}")
        for load, r in loads.items():
            if load in ("process", "error"):
                continue
            rows = r.get("rows_per_s", r["rps"] if load.startswith("single") else 0)
            latency = f"{r['p50_ms']:8.2f} {r['p99_ms']:8.2f}"
            print(f"{server:12} {load:12} {r['rps']:9.0f} {latency} {rows:10.0f}")
    print(f"\n{'server':22} {'start to ready s':>16} {'RSS after MB':>13}")
    for server, loads in results.items():
        if "process" in loads:
            process = loads["process"]
            print(f"{server:22} {process['startup_s']:16.2f} {process['rss_mb']:13.0f}")
    print("\nRatios (targets in brackets):")
    for workers in (1, 2):
        ours, theirs = results[f"ours_w{workers}"], results[f"mlflow_w{workers}"]
        peers_onnx = [
            loads["single_c16"]["rps"]
            for server, loads in results.items()
            if server.endswith(f"_onnx_w{workers}") and "single_c16" in loads
        ]
        asgi = results[f"asgi_w{workers}"]["single_c16"]["rps"]
        framework = results[f"fastapi_w{workers}"]["single_c16"]["rps"]
        ratios = {
            "single c16 req/s vs mlflow [>= 20]": ours["single_c16"]["rps"]
            / theirs["single_c16"]["rps"],
            "single c16 req/s vs HTTP floor [>= 0.5]": ours["single_c16"]["rps"]
            / ours["floor_c16"]["rps"],
            "single c16 req/s vs bare ASGI [>= 0.4]": ours["single_c16"]["rps"] / asgi,
            "FastAPI floor c16 req/s vs bare ASGI": framework / asgi,
            "p50 c1 vs mlflow [<= 0.1]": ours["single_c1"]["p50_ms"]
            / theirs["single_c1"]["p50_ms"],
            "batch rows/s vs in-process ONNX [>= 0.8]": ours["batch_c1"]["rows_per_s"]
            / floor["onnx_1000_rows_per_s"],
        }
        if peers_onnx:
            best_peer = ours["single_c16"]["rps"] / max(peers_onnx)
            ratios["single c16 req/s vs best peer on ONNX [>= 1.5]"] = best_peer
        for name, value in ratios.items():
            print(f"  {workers} worker(s): {name:42} {value:8.3f}")
    print("\n" + json.dumps(results))


if __name__ == "__main__":
    main()
