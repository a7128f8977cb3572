"""The deep project of each task, shared by every module of tests/deep that
asks for `deep` (session scope; tests/conftest.py keeps each task's tests on
one xdist worker, so each project is built once)."""

import pytest

from devtools.testing.deep_project import DEEP_CASES, Deep, build_deep_project


@pytest.fixture(scope="session", params=list(DEEP_CASES))
def deep(request, tmp_path_factory) -> Deep:
    task = request.param
    return build_deep_project(tmp_path_factory.mktemp(task), task)
