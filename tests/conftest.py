"""Fixtures shared by the template's tests: renders cached per answer set."""

import json
from pathlib import Path

import pytest

from devtools.projects import render


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
