"""The environment the tests give a generated project's commands."""

import os
import shutil
import tempfile
from pathlib import Path

from devtools.testing.projects import project_env, uv


def test_uv_on_path_survives_links_left_by_a_deleted_checkout(tmp_path, monkeypatch):
    """A directory of links from an earlier checkout (since deleted) must not
    hide uv: CI once failed every hook with `Executable uv not found`."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stale = tmp_path / f"copier-mlops-uv-{os.getuid()}"
    stale.mkdir()
    for name in ("uv", "uvx"):
        (stale / name).symlink_to(tmp_path / "deleted-checkout" / name)

    search_path = project_env()["PATH"]

    expected = Path(shutil.which(uv()) or uv()).resolve()
    for name in ("uv", "uvx"):
        found = shutil.which(name, path=search_path.split(os.pathsep)[0])
        assert found, f"{name} is not on the PATH given to generated projects"
        assert Path(found).resolve() == expected.with_name(name)


def test_repeated_calls_leave_only_the_two_links(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    project_env()
    project_env()
    directory = tmp_path / f"copier-mlops-uv-{os.getuid()}"
    assert sorted(p.name for p in directory.iterdir()) == ["uv", "uvx"]


def test_generated_projects_write_bytecode_whatever_the_caller_says(monkeypatch):
    """Without bytecode caches each command compiles MLflow, scikit-learn and
    pandas again (benchmarks/bytecode.py): the suite's largest waste."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    assert "PYTHONDONTWRITEBYTECODE" not in project_env()
