"""What the generated project's mypy skip list saves on a first run.

Renders the default project (binary classification, random forest), creates
its environment, then times mypy with an empty cache, as a fresh checkout
(every CI lint job) runs it, alternating two configurations:
  - the project's own `[tool.mypy]`, which does not follow the typed
    libraries that only MLflow and its dependencies import;
  - the same with that `follow_imports = "skip"` override taken out.
Both must find nothing. Prints medians of --repeat runs, wall clock and CPU
(the mypy process), and the ratio. Usage:
  .venv/bin/python -m benchmarks.mypy_cold [--repeat 3]
"""

import argparse
import shutil
import statistics
import tempfile
import tomllib
from pathlib import Path

from benchmarks.pipeline_vs_script import measure
from devtools.testing.projects import given_or_fresh


def ini_value(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)  # True/False are what mypy's INI files say too


def config_following_everything(project: Path, destination: Path) -> Path:
    """The project's [tool.mypy] as a mypy.ini, without its follow_imports=skip
    override."""
    mypy = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["mypy"]
    overrides = [o for o in mypy.pop("overrides") if o.get("follow_imports") != "skip"]
    lines = ["[mypy]", *(f"{key} = {ini_value(value)}" for key, value in mypy.items())]
    for override in overrides:
        modules = override.pop("module")
        lines += ["", f"[mypy-{ini_value(modules).replace(' ', '')}]"]
        lines += [f"{key} = {ini_value(value)}" for key, value in override.items()]
    destination.write_text("\n".join(lines) + "\n")
    return destination


def cold_mypy(project: Path, config: Path, cache: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one mypy run with an empty cache."""
    shutil.rmtree(cache, ignore_errors=True)
    mypy = str(project / ".venv/bin/mypy")
    return measure(project, [mypy, "--config-file", str(config), "--cache-dir", str(cache)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as scratch:
        project = given_or_fresh(None, Path(scratch))
        configs = {
            "skip list (as generated)": project / "pyproject.toml",
            "following every typed library": config_following_everything(
                project, Path(scratch) / "follow-all.ini"
            ),
        }
        times: dict[str, list[tuple[float, float]]] = {label: [] for label in configs}
        for _ in range(repeat):
            for label, config in configs.items():
                times[label].append(cold_mypy(project, config, Path(scratch) / "cache"))
    print(f"{'mypy, empty cache':32} {'wall s':>7} {'CPU s':>7}")
    medians = {}
    for label, runs in times.items():
        medians[label] = [statistics.median(run[i] for run in runs) for i in (0, 1)]
        print(f"{label:32} {medians[label][0]:7.1f} {medians[label][1]:7.1f}")
    ours, other = medians.values()
    print(
        f"skip list against following everything: wall {ours[0] / other[0]:.2f}x, "
        f"CPU {ours[1] / other[1]:.2f}x (medians of {repeat})"
    )


if __name__ == "__main__":
    main()
