"""Cookiecutter entry, after generation: render template/ into the new
project directory (the current one) exactly as `copier copy` would, so the
two tools share one template (see copier_render.py)."""

import json
import sys
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | jsonify }}""")
sys.path.insert(0, ANSWERS["_repo_dir"] + "/hooks")

from copier_render import render_project  # noqa: E402

Path(".gitkeep").unlink()  # the placeholder that makes cookiecutter create this directory
render_project(ANSWERS, Path.cwd(), source=ANSWERS["_template"])
