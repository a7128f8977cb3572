"""What importance, slices and calibration add to the evaluate stage.

Renders the default project (binary classification, random forest) into a
temporary directory, creates its environment and runs `dvc repro`; then,
for each model family, retrains and times in one process
(benchmarks/evaluate_parts.py) the metrics evaluate computed before and
each insight report, beside scikit-learn's permutation_importance (column
"sklearn", the alternative to our importance), and the whole `<slug>
evaluate` command. Usage:
  .venv/bin/python -m benchmarks.evaluate_insights
"""

import json
import tempfile
import time
from pathlib import Path

import yaml

from devtools.testing.projects import FAMILIES, given_or_fresh, in_project, project_answers

PARTS = Path(__file__).with_name("evaluate_parts.py")


def use_family(project: Path, family: str) -> None:
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params["model"]["family"] = family
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        project = given_or_fresh(None, Path(scratch))
        slug = project_answers(project)["project_slug"]
        print(
            f"{'family':18} {'rows':>5} {'metrics':>8} {'import.':>8} "
            f"{'sklearn':>8} {'slices':>8} {'calib.':>8} {'stage':>8}  (seconds)"
        )
        for family in FAMILIES:
            use_family(project, family)
            in_project(project, "dvc", "repro", "evaluate")
            parts = json.loads(in_project(project, "python", str(PARTS)).stdout)
            started = time.perf_counter()
            in_project(project, slug, "evaluate")
            stage = time.perf_counter() - started
            print(
                f"{family:18} {parts['holdout_rows']:5} {parts['metrics']:8.2f} "
                f"{parts['importance']:8.2f} {parts['importance_sklearn']:8.2f} "
                f"{parts['slices']:8.2f} "
                f"{parts.get('calibration', 0.0):8.2f} {stage:8.1f}"
            )


if __name__ == "__main__":
    main()
