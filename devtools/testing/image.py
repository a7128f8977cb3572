"""The serving image without a Docker engine: its environment built with the
Dockerfile's own uv commands and files, the model exported as CD exports it,
and the final stage's ENV with /app moved to a local folder."""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from devtools.testing.dockerfile import dockerfile_instructions
from devtools.testing.projects import in_project, project_answers, python_option, run, uv

# What .dockerignore lets through that the build stage copies.
BUILD_CONTEXT = ("pyproject.toml", "uv.lock", "README.md", "src")
# What the final stage copies from the project beside the environment.
APP_FILES = ("schema.yaml", "params.yaml")


@dataclass
class ImageLike:
    app: Path  # the image's /app
    env: dict[str, str]  # the final stage's ENV, /app replaced by `app`
    final_stage: list[tuple[str, str]]  # (INSTRUCTION, arguments)


def final_stage(dockerfile: Path) -> list[tuple[str, str]]:
    instructions = dockerfile_instructions(dockerfile)
    start = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[start:]


def uv_commands(dockerfile: Path) -> list[list[str]]:
    """The Dockerfile's uv commands (`uv sync`, `uv pip install`), as uv
    arguments."""
    return [
        arguments.removeprefix("uv ").split()
        for keyword, arguments in dockerfile_instructions(dockerfile)
        if keyword == "RUN" and arguments.startswith("uv ")
    ]


def _on_this_machine(uv_arguments: list[str], app: Path) -> list[str]:
    """The command with the image's /app moved to `app`; a sync is given the
    tests' interpreter, as `uv pip` takes the environment's."""
    moved = [argument.replace("/app", str(app)) for argument in uv_arguments]
    return [*moved, *python_option()] if moved[0] == "sync" else moved


def build_like_the_image(project: Path, directory: Path) -> ImageLike:
    """Sync the image's environment into `directory`/app/.venv, copy its
    files and export the project's champion into `directory`/app/model."""
    source, app = directory / "src", directory / "app"
    source.mkdir(parents=True)
    for name in BUILD_CONTEXT:
        copy = shutil.copytree if (project / name).is_dir() else shutil.copy
        copy(project / name, source / name)
    uv_env = {"UV_PROJECT_ENVIRONMENT": str(app / ".venv")}
    for uv_arguments in uv_commands(project / "Dockerfile"):
        run([uv(), *_on_this_machine(uv_arguments, app)], source, env=uv_env)
    for name in APP_FILES:
        shutil.copy(project / name, app / name)
    slug = project_answers(project)["project_slug"]
    in_project(project, slug, "export-model", "--output", str(app / "model"))
    stage = final_stage(project / "Dockerfile")
    env = {}
    for keyword, arguments in stage:
        if keyword == "ENV":
            for assignment in arguments.split():
                name, _, value = assignment.partition("=")
                env[name] = value.replace("/app", str(app)).replace("$PATH", os.environ["PATH"])
    return ImageLike(app, env, stage)
