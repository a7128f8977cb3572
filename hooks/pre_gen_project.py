"""Cookiecutter entry, before generation: refuse answers that copier.yml's
validators refuse, with the same messages (see copier_render.py)."""

import json
import os
import sys
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | jsonify }}""")
if "_repo_dir" not in ANSWERS:  # cruft, and cookiecutter before 2.2, do not say where we are
    sys.exit(
        "ERROR: this template needs cookiecutter 2.2 or newer, run as `cookiecutter`"
        " (cruft is not supported); or use `copier copy`, which can also update."
    )
# The template's path as the user typed it; the hook runs in the new project.
REPOSITORY = Path(os.environ.get("PWD", "."), ANSWERS["_repo_dir"])
if not (REPOSITORY / "hooks" / "copier_render.py").is_file():
    sys.exit(f"ERROR: cannot find the template at {REPOSITORY}: give cookiecutter its full path.")
sys.path.insert(0, str(REPOSITORY / "hooks"))

from copier_render import copier_config, validation_errors  # noqa: E402

errors = validation_errors(copier_config(), ANSWERS)
for error in errors:
    print(f"ERROR: {error}", file=sys.stderr)
sys.exit(1 if errors else 0)
