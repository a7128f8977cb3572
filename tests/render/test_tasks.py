"""Everything the `task` answer decides comes from tasks/<task>/: each task
offered by copier.yml and cookiecutter.json has a complete folder, and no other
template file chooses between tasks by name (only named lookups of task_spec,
the table tasks/<task>/task.yml, and of tasks.py in the generated package)."""

import json
import re

import pytest
import yaml

from devtools.testing.projects import TASKS, TEMPLATE_ROOT
from hooks.copier_render import copier_config

TASKS_DIR = TEMPLATE_ROOT / "tasks"
TASK_FILES = ["dvc_plots.yaml", "sample_data.py", "schema.yaml", "task.yml"]
# `{% if task == ... %}` and friends, in a template's text or a file name.
JINJA_TASK_CHOICE = re.compile(r"{[%{][^%}]*\btask\s*(==|!=|in\b)")
# `if task == "regression"`, `schema.task != ...` in the generated package.
PYTHON_TASK_CHOICE = re.compile(r"\btask\s*(==|!=)")


def task_spec(task: str) -> dict:
    return yaml.safe_load((TASKS_DIR / task / "task.yml").read_text())


def test_the_offered_tasks_are_the_task_folders():
    offered = list(copier_config()["task"]["choices"].values())
    cookiecutter = json.loads((TEMPLATE_ROOT / "cookiecutter.json").read_text())
    folders = sorted(path.name for path in TASKS_DIR.iterdir() if path.is_dir())
    assert sorted(offered) == sorted(cookiecutter["task"]) == folders == sorted(TASKS)


@pytest.mark.parametrize("task", TASKS)
def test_a_task_folder_is_complete_and_consistent(task):
    folder = TASKS_DIR / task
    assert sorted(path.name for path in folder.iterdir()) == TASK_FILES
    spec, first = task_spec(task), task_spec(TASKS[0])
    assert spec.keys() == first.keys() and spec["simulate"].keys() == first["simulate"].keys()
    schema = yaml.safe_load((folder / "schema.yaml").read_text())
    assert schema["task"] == task
    assert schema["target"]["name"] == spec["target"]
    features = {feature["name"]: feature for feature in schema["features"]}
    simulate = spec["simulate"]
    assert features[simulate["numeric_feature"]]["type"] == "numeric"
    assert simulate["category"] in features[simulate["categorical_feature"]]["categories"]
    assert ("classes" in schema["target"]) == spec["classifies"]
    assert list(yaml.safe_load((folder / "dvc_plots.yaml").read_text())) == ["plots"]


@pytest.mark.parametrize("task", TASKS)
def test_cookiecutter_defaults_repeat_the_task_table(task):
    """cookiecutter renders cookiecutter.json without a template loader, so it
    cannot read task.yml: its copy of the defaults must match."""
    cookiecutter = json.loads((TEMPLATE_ROOT / "cookiecutter.json").read_text())
    spec = task_spec(task)
    expected = {key: spec[key] for key in ("project_name", "description")}
    assert cookiecutter["_task_defaults"][task] == expected


def test_no_template_file_chooses_a_task_by_name():
    choosing = []
    template = TEMPLATE_ROOT / "template"
    for path in sorted(template.rglob("*")):
        relative = path.relative_to(TEMPLATE_ROOT)
        if JINJA_TASK_CHOICE.search(str(relative)):
            choosing.append(str(relative))
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        generated_code = ".py" in path.suffixes and relative.parts[1] == "src"
        if JINJA_TASK_CHOICE.search(text) or (generated_code and PYTHON_TASK_CHOICE.search(text)):
            choosing.append(str(relative))
    for name in ("copier.yml", "cookiecutter.json"):
        if JINJA_TASK_CHOICE.search((TEMPLATE_ROOT / name).read_text()):
            choosing.append(name)
    assert choosing == [], "choose by task_spec (tasks/<task>/task.yml) or tasks.TASKS instead"
