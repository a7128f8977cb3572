"""How long the generated pipeline and CLI take compared with plain scripts doing the same.

Renders the default project (binary classification, random forest) into a
temporary directory, creates its environment and runs the pipeline once
(which also writes the bytecode caches, as an owner's first run does), then
in one run times, wall clock and CPU (the process and its children):
  - benchmarks/plain_fit.py: data, split, the same ColumnTransformer and model, one metric;
  - benchmarks/tracked_fit.py: the same, then one MLflow run, the model logged
    with skops and registered as champion, in one process (MLflow's own floor);
  - `dvc repro --force`: all six stages (validation, tuning switched off, MLflow tracking,
    model logging, evaluation reports, the gate and the registry);
  - `dvc repro` with nothing to do;
  - `<slug> --help`, against Python importing typer and nothing else;
  - `<slug> predict` on 30 rows of the holdout (the registry's champion,
    validated), against benchmarks/plain_predict.py (the skops file, no checks);
  - the same `predict` on the champion exported by `export-model` (ONNX).
With --before REF, also renders REF of this repository (e.g. main) and runs the
same commands on it, alternating the two projects, and prints after/before.
Prints medians of --repeat runs and the ratios, and `dvc repro --force`
against the tracked floor. Usage:
  .venv/bin/python -m benchmarks.pipeline_vs_script [--repeat 3] [--before main]
"""

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import copier

from devtools.testing.projects import TEMPLATE_ROOT, in_project, project_answers, render, run, sync

BENCHMARKS = Path(__file__).parent
PREDICT_ROWS = 30
EXPORTED = "build/model"  # where prepare() exports the champion
TRACKED, REPRO = 1, 2  # rows of commands(): the tracked floor, `dvc repro --force`


def render_ref(destination: Path, ref: str) -> Path:
    """The default project as the template's commit `ref` renders it."""
    copier.run_copy(
        str(TEMPLATE_ROOT), destination, defaults=True, unsafe=False, quiet=True, vcs_ref=ref
    )
    return destination


def commands(project: Path) -> list[tuple[str, list[str], int]]:
    """(label, command, index of the floor it is compared with)."""
    slug = project_answers(project)["project_slug"]
    cli, python = str(project / ".venv/bin" / slug), str(project / ".venv/bin/python")
    plain_predict = [python, str(BENCHMARKS / "plain_predict.py"), "input.csv", "plain.csv"]
    return [
        ("plain script (same fit)", [python, str(BENCHMARKS / "plain_fit.py")], 0),
        ("same, tracked and registered", [python, str(BENCHMARKS / "tracked_fit.py")], 0),
        ("dvc repro --force (6 stages)", ["dvc", "repro", "--force"], 0),
        ("dvc repro, nothing changed", ["dvc", "repro"], 0),
        ("python -c 'import typer'", [python, "-c", "import typer"], 4),
        (f"{slug} --help", [cli, "--help"], 4),
        (f"plain_predict.py, {PREDICT_ROWS} rows", plain_predict, 6),
        (
            f"{slug} predict, {PREDICT_ROWS} rows",
            [cli, "predict", "-i", "input.csv", "-o", "out.csv"],
            6,
        ),
        (
            f"{slug} predict, exported model",
            [cli, "predict", "-i", "input.csv", "-o", "out.csv", "--model-uri", EXPORTED],
            6,
        ),
    ]


def prepare(project: Path) -> Path:
    sync(project)
    in_project(project, "dvc", "repro")
    slug = project_answers(project)["project_slug"]
    in_project(project, slug, "export-model", "--output", EXPORTED)
    in_project(
        project,
        "python",
        "-c",
        "import pandas as pd; pd.read_parquet('data/split/holdout.parquet')"
        f".head({PREDICT_ROWS}).to_csv('input.csv', index=False)",
    )
    for _, command, _ in commands(project):  # the remaining bytecode
        if command[0] != "dvc":
            measure(project, command)
    return project


def measure(project: Path, command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run (CPU: user + system of the children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    if command[0] == "dvc":
        in_project(project, *command)
    else:
        run(command, project)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", help="a git ref of this repository to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        projects = {"after": prepare(render(Path(scratch) / "after"))}
        if args.before:
            projects["before"] = prepare(render_ref(Path(scratch) / "before", args.before))
        names = list(projects)
        results: dict[str, list[list[tuple[float, float]]]] = {
            name: [[] for _ in commands(projects[name])] for name in names
        }
        for turn in range(args.repeat):
            order = names if turn % 2 == 0 else names[::-1]
            for index in range(len(commands(projects["after"]))):
                for name in order:
                    label, command, _ = commands(projects[name])[index]
                    results[name][index].append(measure(projects[name], command))
                    wall, cpu = results[name][index][-1]
                    print(f"{name} {label}: {wall:.2f} s, CPU {cpu:.2f} s", flush=True)
        timed = commands(projects["after"])  # read before the projects are removed
    report(timed, {name: medians(runs) for name, runs in results.items()})
    print(f"\nmedians of {args.repeat}; {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")


def medians(runs: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    return [
        (statistics.median(w for w, _ in one), statistics.median(c for _, c in one)) for one in runs
    ]


def report(
    timed: list[tuple[str, list[str], int]], figures: dict[str, list[tuple[float, float]]]
) -> None:
    header = f"{'':36} {'wall s':>7} {'x floor':>7} {'CPU s':>7} {'x floor':>7}"
    if "before" in figures:
        header += f" {'before wall':>11} {'x floor':>7} {'after/before wall':>17}"
    print(header)
    after = figures["after"]
    for index, (label, _, floor) in enumerate(timed):
        wall, cpu = after[index]
        floor_wall, floor_cpu = after[floor]
        line = f"{label:36} {wall:7.2f} {wall / floor_wall:7.1f} {cpu:7.2f} {cpu / floor_cpu:7.1f}"
        if "before" in figures:
            old_wall = figures["before"][index][0]
            old_floor = figures["before"][floor][0]
            line += f" {old_wall:11.2f} {old_wall / old_floor:7.1f} {wall / old_wall:17.2f}"
        print(line)
    (repro_wall, repro_cpu), (tracked_wall, tracked_cpu) = after[REPRO], after[TRACKED]
    print(
        f"\n{timed[REPRO][0]} against the tracked floor: wall "
        f"{repro_wall / tracked_wall:.1f}x, CPU {repro_cpu / tracked_cpu:.1f}x"
    )


if __name__ == "__main__":
    main()
