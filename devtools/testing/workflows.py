"""Run a generated workflow's `run:` steps locally, as GitHub would run them.

Only what this module understands is accepted; anything else raises, so a
workflow change that the local run cannot mirror fails the test that runs
it instead of passing silently:
- `uses:` steps of SETUP_ACTIONS are skipped (uv and Python are already
  here); any other action raises;
- expressions: `vars.NAME`, `secrets.NAME` and `inputs.NAME` (unset here,
  so empty: a scheduled run, or a manual one that leaves them blank), and
  the step condition `vars.NAME != ''` (false here); anything else raises;
- keys outside JOB_KEYS and STEP_KEYS raise, as do steps that write to
  GITHUB_ENV or GITHUB_PATH (not carried to later steps here).
"""

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from devtools.testing.projects import DEFAULT_PYTHON, find_python, project_env

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
UNSET = re.compile(r"^(vars|secrets|inputs)\.\w+$")
VARIABLE_IS_SET = re.compile(r"^vars\.\w+ != ''$")
SETUP_ACTIONS = ("actions/checkout@", "astral-sh/setup-uv@")
# `outputs` only declares what later jobs may read: nothing to mirror.
JOB_KEYS = {"name", "runs-on", "timeout-minutes", "permissions", "env", "steps", "outputs"}
STEP_KEYS = {"name", "id", "run", "env", "if", "uses", "with"}


@dataclass
class Step:
    job: str
    name: str
    script: str
    env: dict[str, str]
    condition: str | None


def _resolve(value: object, where: str) -> str:
    def replace(match: re.Match) -> str:
        if UNSET.match(match.group(1)):
            return ""
        raise ValueError(f"{where}: cannot evaluate {match.group(0)} locally")

    return EXPRESSION.sub(replace, str(value))


def _env(mapping: dict | None, where: str) -> dict[str, str]:
    return {key: _resolve(value, where) for key, value in (mapping or {}).items()}


def _only(keys, allowed: set[str], where: str) -> None:
    unknown = set(keys) - allowed
    if unknown:
        raise ValueError(f"{where}: cannot mirror {sorted(unknown)} locally")


def read_run_steps(workflow: Path, only: set[str] | None = None) -> list[Step]:
    """Every `run:` step of every job, in file order, with its environment;
    with `only`, just the steps with those ids (other steps, and jobs without
    such steps, are not read)."""
    document = yaml.safe_load(workflow.read_text())
    workflow_env = _env(document.get("env"), workflow.name)
    steps = []
    for job_id, job in document["jobs"].items():
        chosen = [
            (index, step)
            for index, step in enumerate(job["steps"])
            if only is None or step.get("id") in only
        ]
        if not chosen:
            continue
        _only(job, JOB_KEYS, f"{workflow.name} job {job_id}")
        job_env = {**workflow_env, **_env(job.get("env"), job_id)}
        for index, step in chosen:
            name = step.get("name", f"step {index + 1}")
            where = f"{workflow.name} {job_id}: {name}"
            _only(step, STEP_KEYS, where)
            if "uses" in step:
                if not step["uses"].startswith(SETUP_ACTIONS):
                    raise ValueError(f"{where}: cannot run action {step['uses']}")
                continue
            if EXPRESSION.search(step["run"]):
                raise ValueError(f"{where}: expressions in run: (use env: instead)")
            env = {**job_env, **_env(step.get("env"), where)}
            steps.append(Step(job_id, name, step["run"], env, step.get("if")))
    return steps


def runner_env() -> dict[str, str]:
    """A generated project's environment, plus the interpreter setup-uv
    would provide on GitHub."""
    env = project_env()
    python = find_python(DEFAULT_PYTHON)
    if python:
        env["UV_PYTHON"] = python
    return env


def should_run(step: Step) -> bool:
    if step.condition is None:
        return True
    if VARIABLE_IS_SET.match(step.condition):
        return False  # no repository variables here
    raise ValueError(f"{step.job}: {step.name}: cannot evaluate if: {step.condition}")


@dataclass
class StepResult:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]  # what the step wrote to GITHUB_OUTPUT
    summary: str  # what it wrote to GITHUB_STEP_SUMMARY


def _read_outputs(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def execute(
    step: Step,
    cwd: Path,
    env: dict[str, str],
    timeout: int = 1200,
    runner_temp: Path | None = None,
) -> StepResult:
    """Run one step as GitHub runs a step without `shell:` (`bash -e`), with
    RUNNER_TEMP in `runner_temp` (kept) or in a scratch directory."""
    with tempfile.TemporaryDirectory() as scratch:
        temp = str(runner_temp or scratch)
        files = {
            name: f"{scratch}/{name.lower()}"
            for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH")
        }
        result = subprocess.run(
            ["bash", "-e", "-c", step.script],
            cwd=cwd,
            env={**env, **files, "CI": "true", "RUNNER_TEMP": temp, **step.env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        for name in ("GITHUB_ENV", "GITHUB_PATH"):
            if Path(files[name]).exists():
                raise ValueError(f"{step.job}: {step.name} writes {name}, not mirrored here")
        summary = Path(files["GITHUB_STEP_SUMMARY"])
        return StepResult(
            result.returncode,
            result.stdout,
            result.stderr,
            _read_outputs(Path(files["GITHUB_OUTPUT"])),
            summary.read_text() if summary.exists() else "",
        )
