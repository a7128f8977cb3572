"""Cookiecutter entry, after generation: render template/ into the new
project directory (the current one) exactly as `copier copy` would, so the
two tools share one template (see copier_render.py)."""

import json
import os
import re
import sys
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | jsonify }}""")
# The template's path as the user typed it; the hook runs in the new project.
REPOSITORY = Path(os.environ.get("PWD", "."), ANSWERS["_repo_dir"])
sys.path.insert(0, str(REPOSITORY / "hooks"))

from copier_render import render_project  # noqa: E402

Path(".gitkeep").unlink()  # the placeholder that makes cookiecutter create this directory
# Recorded as copier's `_src_path`: a URL as given, a local template by its full path.
remote = re.match(r"^([a-z]+:|git@)", ANSWERS["_template"])
render_project(ANSWERS, Path.cwd(), source=ANSWERS["_template"] if remote else str(REPOSITORY))
