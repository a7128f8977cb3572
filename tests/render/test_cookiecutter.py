"""The cookiecutter entry generates the same project as `copier copy` for the
same answers (files, contents, executable bits; the answers file may differ
only in the template's version), refuses the answers copier refuses with
copier's messages, and asks the questions of copier.yml."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from devtools.testing.projects import TEMPLATE_ROOT, project_answers
from hooks.copier_render import copier_config, questions
from tests.render.test_questions import BAD_ANSWERS
from tests.render.test_render import UNUSUAL

COOKIECUTTER = str(Path(sys.executable).with_name("cookiecutter"))
ANSWERS_FILE = ".copier-answers.yml"
# Answer sets given to both tools; the first three leave the rest to each
# tool's own defaults, so they also compare the derived defaults.
ANSWER_SETS = {
    "binary-defaults": {"task": "binary_classification"},
    "multiclass-defaults": {"task": "multiclass_classification"},
    "regression-defaults": {"task": "regression"},
    # The slug is given: from a name with non-ASCII letters, cookiecutter's
    # default transliterates them (slugify) where copier's drops them.
    "unusual": {
        "task": "regression",
        "model_family": "gradient_boosting",
        "project_slug": "unicode-predictions",
        **UNUSUAL,
    },
    "apache-3.11": {"license": "Apache-2.0", "python_version": "3.11", "model_family": "linear"},
}


def cookiecutter(
    output: Path, answers: dict, template: Path = TEMPLATE_ROOT
) -> subprocess.CompletedProcess:
    """The cookiecutter command line, as a user runs it on this repository
    (or on a copy of it)."""
    pairs = [f"{key}={value}" for key, value in answers.items()]
    command = [COOKIECUTTER, "--no-input", "--output-dir", str(output), str(template)]
    return subprocess.run([*command, *pairs], capture_output=True, text=True, timeout=120)


def tree(root: Path) -> dict[str, tuple[bytes, bool]]:
    """Every file under root: contents and whether it is executable."""
    return {
        str(path.relative_to(root)): (path.read_bytes(), bool(path.stat().st_mode & 0o111))
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def recorded_answers(project: Path) -> dict:
    return {k: v for k, v in project_answers(project).items() if not k.startswith("_")}


@pytest.mark.parametrize("answers", list(ANSWER_SETS.values()), ids=list(ANSWER_SETS))
def test_cookiecutter_generates_what_copier_generates(rendered, tmp_path, answers):
    by_copier = rendered(**answers)
    result = cookiecutter(tmp_path, answers)
    assert result.returncode == 0, result.stderr
    (by_cookiecutter,) = tmp_path.iterdir()
    assert by_cookiecutter.name == project_answers(by_copier)["project_slug"]

    assert recorded_answers(by_cookiecutter) == recorded_answers(by_copier)
    copier_files, cookiecutter_files = tree(by_copier), tree(by_cookiecutter)
    for files in (copier_files, cookiecutter_files):
        del files[ANSWERS_FILE]
    assert sorted(cookiecutter_files) == sorted(copier_files)
    different = [name for name in copier_files if cookiecutter_files[name] != copier_files[name]]
    assert different == []


def test_the_answers_file_records_where_the_project_came_from(tmp_path):
    result = cookiecutter(tmp_path, {})
    assert result.returncode == 0, result.stderr
    answers = project_answers(tmp_path / "customer-churn")
    assert answers["_src_path"] == str(TEMPLATE_ROOT)
    describe = ["git", "describe", "--tags", "--always"]
    version = subprocess.run(describe, cwd=TEMPLATE_ROOT, capture_output=True, text=True)
    assert answers["_commit"] == version.stdout.strip()  # what `copier update` starts from


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS, ids=[str(a) for a, _ in BAD_ANSWERS])
def test_cookiecutter_refuses_what_copier_refuses(tmp_path, answers, message):
    output = tmp_path / "output"
    result = cookiecutter(output, answers)
    assert result.returncode != 0
    assert message in result.stderr and next(iter(answers)) in result.stderr
    assert not output.exists() or not any(output.iterdir()), "a refused project was left behind"


def test_cookiecutter_asks_copiers_questions_with_copiers_choices_and_defaults():
    asked = {
        name: spec
        for name, spec in questions(copier_config()).items()
        if spec.get("when") is not False
    }
    context = json.loads((TEMPLATE_ROOT / "cookiecutter.json").read_text())
    prompts = context.pop("__prompts__")
    assert [name for name in context if not name.startswith("_")] == list(asked)
    for name, spec in asked.items():
        prompt = prompts[name]["__prompt__"] if isinstance(prompts[name], dict) else prompts[name]
        assert prompt == spec["help"], name
        if "choices" in spec:
            choices = spec["choices"]
            labels = (
                {value: label for label, value in choices.items()}
                if isinstance(choices, dict)
                else {value: value for value in choices}
            )
            assert context[name][0] == str(spec["default"]), f"{name}: default first"
            assert sorted(context[name]) == sorted(labels), name
            if isinstance(prompts[name], dict):
                assert {k: v for k, v in prompts[name].items() if k != "__prompt__"} == labels
        elif "{" not in spec["default"]:
            assert context[name] == spec["default"], name


def test_copier_ignores_the_cookiecutter_files(rendered):
    project = rendered()
    assert not (project / "cookiecutter.json").exists()
    assert not (project / "hooks").exists()
    assert yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())["_subdirectory"] == "template"
