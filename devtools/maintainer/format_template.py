"""Format the template's Python files with ruff, including the .py.jinja ones.

Plain .py files under template/ are formatted in place. A .py.jinja file whose
only Jinja is `{{ package_name }}` is rendered with a stand-in name, formatted,
and written back; any other .py.jinja file is reported for formatting by hand
(the render test checks the result on every answer set).

Usage: python -m devtools.maintainer.format_template
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[2] / "template"
TASKS = TEMPLATE.parent / "tasks"  # the per-task parts of template/ (tasks/README.md)
PLACEHOLDER = "{{ package_name }}"
STAND_IN = "package_name_stand_in"
RUFF = [sys.executable, "-m", "ruff"]
RUFF_OPTIONS = [
    "--line-length=88",
    "--target-version=py311",
    f"--config=lint.isort.known-first-party=['{STAND_IN}']",
]


def ruff(*args: str) -> None:
    subprocess.run([*RUFF, *args], check=True)


def format_placeholder_files() -> list[Path]:
    by_hand = []
    for source in sorted(TEMPLATE.rglob("*.py.jinja")):
        text = source.read_text()
        if re.search(r"{%|{{(?! package_name }})", text):
            by_hand.append(source)
            continue
        with tempfile.TemporaryDirectory() as scratch:
            rendered = Path(scratch) / "module.py"
            rendered.write_text(text.replace(PLACEHOLDER, STAND_IN))
            ruff("check", "--fix", "--select", "I", "-q", *RUFF_OPTIONS, str(rendered))
            ruff("format", "-q", *RUFF_OPTIONS, str(rendered))
            source.write_text(rendered.read_text().replace(STAND_IN, PLACEHOLDER))
    return by_hand


def main() -> None:
    plain = [str(path) for path in [*TEMPLATE.rglob("*.py"), *TASKS.rglob("*.py")]]
    if plain:
        ruff("check", "--fix", "--select", "I", "-q", *RUFF_OPTIONS, *plain)
        ruff("format", "-q", *RUFF_OPTIONS, *plain)
    for path in format_placeholder_files():
        print(f"format by hand (has other Jinja): {path.relative_to(TEMPLATE)}")


if __name__ == "__main__":
    main()
