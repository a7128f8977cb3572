"""Cheap checks on every combination of answers: renders, lints and parses."""

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from devtools.testing.projects import FAMILIES, TASKS, TEMPLATE_ROOT, project_answers

TEMPLATE = TEMPLATE_ROOT / "template"

# Every task with every scikit-learn family; LightGBM and XGBoost once each:
# what they change in a render does not depend on the task, and the deep runs
# train multiclass on XGBoost and regression on LightGBM.
OPTIONAL_FAMILIES = ["lightgbm", "xgboost"]
COMBINATIONS = [
    (task, family) for task in TASKS for family in FAMILIES if family not in OPTIONAL_FAMILIES
] + [("binary_classification", family) for family in OPTIONAL_FAMILIES]
EXPECTED_FILES = [
    ".copier-answers.yml",
    ".dockerignore",
    "Dockerfile",
    ".dvc/config",
    ".dvc/config.local",
    ".gitignore",
    ".python-version",
    "LICENSE",
    "README.md",
    "dvc.yaml",
    "params.yaml",
    "pyproject.toml",
    "schema.yaml",
    "src/{package}/cli.py",
    "src/{package}/train.py",
    "src/{package}/registry.py",
    "tests/test_pipeline.py",
]
# Answers at the edges of what the validators accept.
UNUSUAL = {
    "project_name": "Ünïcode & Very Long Project Name For Predicting Things",
    "package_name": "a_rather_long_package_name_for_predicting_things",
    "description": "A description long enough that it has to wrap over more than one line "
    "in the docstrings of the generated code, with 'quotes' and \"double quotes\".",
    "license": "Proprietary",
    "python_version": "3.13",
}


def text_files(project: Path):
    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            yield path


def ruff(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=cwd, capture_output=True, text=True
    )


@pytest.fixture(params=COMBINATIONS, ids=["-".join(c) for c in COMBINATIONS])
def project(request, rendered) -> Path:
    task, family = request.param
    return rendered(task=task, model_family=family)


@pytest.fixture
def unusual_project(rendered) -> Path:
    return rendered(**UNUSUAL)


# Jinja expressions or statements, not Python's nested braces or format
# specs (`{share:.0%}`), GitHub's `${{ expression }}` or
# docker/metadata-action's `pattern={{version}}`.
JINJA_LEFTOVER = re.compile(r"(?<![$=])\{\{-?\s*[\w(]|\{%-?\s*\w|\w\s+-?%\}")


def rendered_files(project: Path) -> list[Path]:
    """The files rendered from `.jinja` sources (the others are copied as they
    are, and may hold braces of their own: Grafana legends, for one)."""
    answers = project_answers(project)
    names = {
        "{{package_name}}": answers["package_name"],
        "{{_copier_conf.answers_file}}": ".copier-answers.yml",
    }
    found = []
    for source in TEMPLATE.rglob("*.jinja"):
        relative = str(source.relative_to(TEMPLATE)).removesuffix(".jinja")
        for placeholder, value in names.items():
            relative = relative.replace(placeholder, value)
        path = project / re.sub(r"\{%.*?%\}", "", relative)  # conditional names
        if path.is_file():
            found.append(path)
    return found


def test_no_jinja_left_behind(project):
    files = rendered_files(project)
    assert len(files) > 15
    for path in files:
        found = JINJA_LEFTOVER.search(path.read_text())
        assert not found, f"{found.group()!r} left in {path.relative_to(project)}"


def test_expected_files(project):
    answers = project_answers(project)
    for name in EXPECTED_FILES:
        assert (project / name.format(package=answers["package_name"])).is_file(), name


def test_ruff_lint_and_format_clean(project):
    assert_ruff_clean(project)


def test_ruff_clean_with_unusual_answers(unusual_project):
    assert_ruff_clean(unusual_project)


def settings_fields(module: Path, class_name: str) -> list[str]:
    """The annotated fields of a settings class, read from its source."""
    tree = ast.parse(module.read_text())
    (settings,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name]
    return [
        node.target.id
        for node in settings.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    ]


def test_every_serve_setting_is_in_the_readme(rendered):
    """The README's settings table is where owners look for a service limit."""
    project = rendered()
    package = project_answers(project)["package_name"]
    fields = settings_fields(project / "src" / package / "environment.py", "ServeSettings")
    assert "breaker_failures" in fields
    readme = (project / "README.md").read_text()
    missing = [f"SERVE_{f.upper()}" for f in fields if f"`SERVE_{f.upper()}`" not in readme]
    assert not missing, f"README.md does not document {missing}"


def assert_ruff_clean(project: Path) -> None:
    lint = ruff("check", "--no-cache", ".", cwd=project)
    assert lint.returncode == 0, lint.stdout
    formatting = ruff("format", "--no-cache", "--check", ".", cwd=project)
    assert formatting.returncode == 0, formatting.stdout


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for the renders of this worker (the stubs are analysed once)."""
    return tmp_path_factory.mktemp("mypy-cache")


def test_mypy_clean(project, mypy_cache):
    """The project's own mypy config, run with the template's mypy: the
    project's dependencies are not installed here, so their names are Any
    (the deep tests run the lint job's mypy in the project's environment).
    An ignore that the real library needs looks unused here, hence the flag."""
    flags = ["--ignore-missing-imports", "--no-warn-unused-ignores"]
    result = subprocess.run(
        [sys.executable, "-m", "mypy", *flags, "--cache-dir", str(mypy_cache)],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def imported_top_level_names(project: Path) -> set[str]:
    names = set()
    for path in project.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names


def test_mypy_skips_only_libraries_the_project_does_not_import(project):
    """Not following the big typed libraries MLflow pulls in halves mypy's
    first run; one the project imports itself must stay followed, or mypy
    would stop checking the project's calls to it without a word."""
    config = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["mypy"]
    skipped = {
        module.removesuffix(".*")
        for override in config["overrides"]
        if override.get("follow_imports") == "skip"
        for module in override["module"]
    }
    assert "databricks" in skipped
    assert not skipped & imported_top_level_names(project)


def test_dockerfile_lints_clean(project):
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run(
        [str(hadolint), "Dockerfile"], cwd=project, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = (project / "Dockerfile").read_text()
    answers = project_answers(project)
    assert f"ARG PYTHON_VERSION={answers['python_version']}" in text
    assert f'CMD ["{answers["project_slug"]}", "serve"' in text


def test_yaml_and_toml_parse(project):
    for path in text_files(project):
        if path.suffix in {".yaml", ".yml"}:
            assert yaml.safe_load(path.read_text()) is not None, path
        if path.suffix == ".toml":
            tomllib.loads(path.read_text())


def test_answers_reach_the_files(project):
    answers = project_answers(project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    schema = yaml.safe_load((project / "schema.yaml").read_text())
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert params["model"]["family"] == answers["model_family"]
    assert params["register"]["model_name"] == answers["model_name"]
    assert schema["task"] == answers["task"]
    assert pyproject["project"]["requires-python"] == f">={answers['python_version']}"
    assert answers["project_slug"] in pyproject["project"]["scripts"]
    assert (project / ".python-version").read_text().strip() == answers["python_version"]


def test_unusual_answers(unusual_project):
    pyproject = tomllib.loads((unusual_project / "pyproject.toml").read_text())
    # Non-ASCII letters cannot be transliterated in copier's sandbox: they
    # become separators, and the default slug is still a valid one.
    assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", pyproject["project"]["name"])
    assert "license" not in pyproject["project"]
    assert not (unusual_project / "LICENSE").exists()
    assert (unusual_project / "src" / UNUSUAL["package_name"]).is_dir()


@pytest.mark.parametrize("license_id", ["MIT", "Apache-2.0", "BSD-3-Clause"])
def test_license_file(rendered, license_id):
    project = rendered(license=license_id)
    text = (project / "LICENSE").read_text()
    heading = {"MIT": "MIT License", "Apache-2.0": "Apache License", "BSD-3-Clause": "BSD 3-Clause"}
    assert text.startswith(heading[license_id])
    assert "ML Team" in text
