"""The template repository's own Python (devtools/, hooks/, tests/,
benchmarks/) type-checks with mypy under pyproject.toml's [tool.mypy]. Here
so that `make test`, CI's only entry point, enforces it too; `make lint`
runs the same command."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_mypy_finds_nothing():
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
