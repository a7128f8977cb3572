"""Fixtures shared by the template's tests: renders cached per answer set."""

import json
from pathlib import Path

import pytest

from devtools.testing.projects import render

# Module-scoped fixtures that build one project per parameter (a task).
DEEP_PROJECT_FIXTURES = ("deep", "own")


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory):
    """Render once per distinct answer set in this test session (per worker)."""
    cache: dict[str, Path] = {}

    def _rendered(**answers: str) -> Path:
        key = json.dumps(answers, sort_keys=True)
        if key not in cache:
            cache[key] = render(tmp_path_factory.mktemp("render"), **answers)
        return cache[key]

    return _rendered


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Keep the tests of one deep project on one xdist worker (--dist loadgroup),
    so its module-scoped fixture is built once: marks on fixture params do not
    reach xdist, so the group is set here from the test's parameters."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        for fixture in DEEP_PROJECT_FIXTURES:
            if callspec and fixture in callspec.params:
                group = f"{fixture}-{callspec.params[fixture]}"
                item.add_marker(pytest.mark.xdist_group(group))


def pytest_collection_finish(session):
    """Fail early when xdist's groups do not take (a pytest/xdist mismatch):
    every deep project would be built once per worker instead of once."""
    if not getattr(session.config.option, "loadgroup", False):
        return
    for item in session.items:
        if item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
            raise pytest.UsageError(
                f"{item.nodeid} has an xdist_group mark but no group in its id: "
                "this pytest-xdist cannot group tests with this pytest"
            )
