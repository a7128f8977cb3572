"""Render the template and drive generated projects (tests, demo, benchmarks)."""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import copier
import httpx
import yaml

TEMPLATE_ROOT = Path(__file__).resolve().parents[2]
TASKS = ["binary_classification", "multiclass_classification", "regression"]
FAMILIES = ["random_forest", "gradient_boosting", "linear", "lightgbm", "xgboost"]
DEFAULT_PYTHON = "3.12"


def render(destination: Path, **answers: str) -> Path:
    """Render the template's working tree (HEAD plus uncommitted changes)."""
    copier.run_copy(
        str(TEMPLATE_ROOT),
        destination,
        data=answers,
        defaults=True,
        unsafe=False,
        quiet=True,
        vcs_ref="HEAD",
    )
    return destination


def project_answers(project: Path) -> dict:
    """The answers a generated project was rendered with (its answers file)."""
    return yaml.safe_load((project / ".copier-answers.yml").read_text())


def find_python(version: str) -> str | None:
    """A working interpreter for `version`, or None to let uv find or fetch one.

    pyenv shims answer for every version but run only the selected ones, so
    they are tried last and only after a test that they really start.
    """
    candidates = sorted(
        glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}"))
    )
    on_path = shutil.which(f"python{version}")
    for candidate in [*reversed(candidates), on_path]:
        if candidate and _starts(candidate):
            return candidate
    return None


def _starts(python: str) -> bool:
    result = subprocess.run([python, "-c", "pass"], capture_output=True)
    return result.returncode == 0


def uv() -> str:
    """The uv of this environment (a dev dependency of the template)."""
    local = Path(sys.executable).with_name("uv")
    return str(local) if local.exists() else "uv"


def _uv_only_directory() -> Path:
    """A directory holding only links to this environment's uv and uvx (what
    setup-uv puts on PATH)."""
    directory = Path(tempfile.gettempdir()) / f"copier-mlops-uv-{os.getuid()}"
    directory.mkdir(exist_ok=True)
    uv_binary = Path(shutil.which(uv()) or uv()).resolve()
    for name in ("uv", "uvx"):
        _point_link(directory / name, uv_binary.with_name(name))
    return directory


def _point_link(link: Path, target: Path) -> None:
    """Make `link` point at `target`. A link left by another checkout, whose
    uv may since have been deleted, is replaced, atomically, since test
    workers race here."""
    if link.is_symlink() and link.readlink() == target:
        return
    temporary = link.with_name(f".{link.name}.{os.getpid()}")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target)
    temporary.replace(link)


def project_env() -> dict[str, str]:
    """Environment for commands in a generated project: its own .venv, no
    inherited virtualenv or MLflow settings, bytecode written as on an
    owner's machine, no interpreter downloads when a local one is known."""
    inherited = ("VIRTUAL_ENV", "MLFLOW_", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    # Without bytecode every process compiles MLflow, scikit-learn and pandas
    # from source again: about 3x the start-up of each of the hundreds of
    # commands the tests run (benchmarks/bytecode.py).
    # Hooks and workflow steps call `uv` by name: put this one, and nothing
    # else of the template's environment, first on PATH.
    env["PATH"] = os.pathsep.join([str(_uv_only_directory()), env.get("PATH", "")])
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    return env


def run(
    command: list[str],
    cwd: Path,
    timeout: int = 900,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run a command, failing with its full output when it fails."""
    result = subprocess.run(
        command,
        cwd=cwd,
        env={**project_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited {result.returncode} in {cwd}\n"
            f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
        )
    return result


def python_option(version: str = DEFAULT_PYTHON) -> list[str]:
    """uv's `--python` for a working local interpreter, or nothing (uv finds one)."""
    python = find_python(version)
    return ["--python", python] if python else []


def sync(project: Path, python_version: str = DEFAULT_PYTHON) -> None:
    """Create the project's .venv with uv, as `uv sync` would for its owner."""
    run([uv(), "sync", "--quiet", *python_option(python_version)], project)


def virtual_environment(directory: Path, *packages: str) -> Path:
    """A uv virtual environment in `directory` (created on first use) with
    `packages` (`uv pip install` arguments) installed; returns its interpreter."""
    python = directory / "bin" / "python"
    if not python.exists():
        run([uv(), "venv", "--quiet", str(directory), *python_option()], directory.parent)
    run([uv(), "pip", "install", "--quiet", "--python", str(python), *packages], directory.parent)
    return python


def given_or_fresh(project: Path | None, scratch: Path, trained: bool = False) -> Path:
    """The project a benchmark was given, or a fresh default render in
    `scratch` with its environment (and, with `trained`, its pipeline run)."""
    if project is not None:
        return project
    project = render(scratch / "project")
    sync(project)
    if trained:
        in_project(project, "dvc", "repro")
    return project


def in_project(project: Path, *command: str, **kwargs) -> subprocess.CompletedProcess:
    """Run a command inside the project's environment (`uv run --no-sync`)."""
    return run([uv(), "run", "--no-sync", *command], project, **kwargs)


def sample_records(project: Path, count: int, seed: int = 123) -> list[dict]:
    """Records drawn by the project's sample-data generator, without the target."""
    script = (
        "import importlib, yaml; "
        "a = yaml.safe_load(open('.copier-answers.yml')); "
        "t = yaml.safe_load(open('schema.yaml'))['target']['name']; "
        "m = importlib.import_module(a['package_name'] + '.sample_data'); "
        f"print(m.generate({count}, seed={seed}).drop(columns=[t]).to_json(orient='records'))"
    )
    return json.loads(in_project(project, "python", "-c", script).stdout)


def project_facts(project: Path) -> dict:
    """Facts read from the project's MLflow store and data by our own script,
    run with the project's interpreter (it has mlflow and scikit-learn)."""
    script = TEMPLATE_ROOT / "devtools" / "in_project" / "project_facts.py"
    output = in_project(project, "python", str(script)).stdout
    return json.loads(output.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Service:
    """A project's service started by start_service, and the file it logs to."""

    process: subprocess.Popen[bytes]
    log_file: TextIO
    port: int = 0


def start_service(
    project: Path, slug: str, port: int, env: dict[str, str] | None = None, *options: str
) -> Service:
    """Start the project's service with uvicorn on 127.0.0.1, as its CLI does
    (`options`: more of `serve`'s, e.g. --workers)."""
    log = open(project / f"service-{port}.log", "w")  # noqa: SIM115 - closed by stop_service
    process = subprocess.Popen(
        [
            str(project / ".venv" / "bin" / slug),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *options,
        ],
        cwd=project,
        env={**project_env(), **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return Service(process, log, port)


def start_ready_service(
    project: Path,
    slug: str,
    env: dict[str, str] | None = None,
    attempts: int = 3,
    options: tuple[str, ...] = (),
) -> Service:
    """start_service on a free port, then wait_until_ready. Another process
    (a parallel test) can take the port between free_port() and uvicorn's
    bind: then start again on another port."""
    for attempt in range(1, attempts + 1):
        service = start_service(project, slug, free_port(), env, *options)
        try:
            wait_until_ready(service, service.port)
            return service
        except AssertionError:
            if service.process.poll() is None:  # timed out: not a lost port
                service.process.kill()
                service.process.wait()
            lost_the_port = "address already in use" in _log_text(service)
            service.log_file.close()
            if not lost_the_port or attempt == attempts:
                raise
    raise AssertionError("unreachable: attempts must be at least 1")


def wait_until_ready(
    service: Service, port: int, timeout: float = 120, path: str = "/ready"
) -> None:
    """Poll until `path` answers 200; fails with the service's log if it
    exits or times out."""
    process = service.process
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"service exited with {process.returncode}: {_log_text(service)}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"service not ready after {timeout}s: {_log_text(service)}")


def stop_service(service: Service, timeout: float = 60) -> str:
    """SIGTERM, as Kubernetes and Docker stop a container; returns the service's log.

    uvicorn finishes in-flight requests, runs the app's shutdown, then
    re-raises the signal: exit status -SIGTERM (or 0) after a clean shutdown.
    """
    process = service.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    service.log_file.close()
    log = Path(service.log_file.name).read_text()
    clean = process.returncode in (0, -signal.SIGTERM)
    assert clean and "Application shutdown complete." in log, (
        f"no clean shutdown (exit {process.returncode}):\n{log[-4000:]}"
    )
    return log


def _log_text(service: Service) -> str:
    service.log_file.flush()
    return Path(service.log_file.name).read_text()[-4000:]
