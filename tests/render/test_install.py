"""A generated project installs completely from its own pyproject.toml: a
regular install into a fresh venv, without its lock or dev tools, runs the
pipeline. The installer is uv's pip interface: it reads the same metadata
as pip, but takes the wheels from uv's cache instead of downloading about
1 GB again (pip took most of this test's 220 s in CI)."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from devtools.testing.projects import DEFAULT_PYTHON, find_python, project_answers, run, uv

pytestmark = pytest.mark.slow


def test_a_regular_install_into_a_fresh_venv_runs_the_pipeline(rendered, tmp_path):
    project = rendered()
    python = find_python(DEFAULT_PYTHON)
    if python is None:
        pytest.fail(f"no Python {DEFAULT_PYTHON} interpreter found for the generated project")
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    # A regular (not editable) install: only what pyproject.toml declares.
    python_of_venv = str(venv / "bin" / "python")
    run([uv(), "pip", "install", "--quiet", "--python", python_of_venv, str(project)], tmp_path)

    # Run the installed CLI away from the source tree, with only the config files.
    workdir = tmp_path / "work"
    workdir.mkdir()
    shutil.copy(project / "schema.yaml", workdir / "schema.yaml")
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["data"]["n_rows"] = 800  # the install is under test, not the fit
    params["model"]["random_forest"]["n_estimators"] = 20
    (workdir / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    slug = project_answers(project)["project_slug"]
    cli = str(venv / "bin" / slug)
    # tune: off by default, it runs without the tune extra (no Optuna here).
    for stage in ("prepare", "validate", "tune", "train", "evaluate", "register"):
        run([cli, stage], workdir)
    assert '"champion"' in run([cli, "models"], workdir).stdout
    assert not (workdir / "src").exists()
    assert not list(venv.glob("lib/*/site-packages/optuna")), "optuna is an extra"
    assert not list(venv.glob("lib/*/site-packages/pyspark")), "pyspark is an extra"
    assert Path(workdir / "mlflow.db").is_file()
