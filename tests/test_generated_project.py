"""Deep checks: a generated project installs, passes its own tests and runs its
pipeline for real (dvc repro, MLflow store, registry), once per task."""

import json
from pathlib import Path

import pytest
import yaml

from devtools.projects import in_project, project_facts, render, sync

pytestmark = pytest.mark.slow

DEEP_CASES = {
    "binary_classification": "random_forest",
    "multiclass_classification": "gradient_boosting",
    "regression": "linear",
}

CHANGED_HYPERPARAMETER = {
    "random_forest": {"n_estimators": 120},
    "gradient_boosting": {"max_iter": 150},
    "linear": {"alpha": 2.0},
}


@pytest.fixture(scope="module", params=list(DEEP_CASES))
def project(request, tmp_path_factory) -> Path:
    task = request.param
    project = render(tmp_path_factory.mktemp(task), task=task, model_family=DEEP_CASES[task])
    sync(project)
    return project


def repro(project: Path) -> str:
    return in_project(project, "dvc", "repro").stdout


def edit_params(project: Path, change) -> None:
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    change(params)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def test_project_pipeline_end_to_end(project):
    # 1. The project's own tests pass straight after generation.
    tests = in_project(project, "pytest", "-q", "-p", "no:cacheprovider")
    assert " passed" in tests.stdout and "failed" not in tests.stdout

    # 2. dvc repro runs every stage and leaves a champion in the registry.
    first = repro(project)
    for stage in ("prepare", "validate", "train", "evaluate", "register"):
        assert f"Running stage '{stage}'" in first
    facts = project_facts(project)
    assert facts["aliases"] == {"champion": "1", "challenger": "1"}
    assert len(facts["runs"]) == 1
    run = facts["runs"][0]
    task = yaml.safe_load((project / "schema.yaml").read_text())["task"]
    assert run["params"]["model_family"] == DEEP_CASES[task]
    assert facts["metric"] in run["metrics"]
    assert {"git_commit", "data_sha256", "template_version"} <= set(run["tags"])

    # 3. The champion beats a trivial baseline, recomputed independently.
    lower_is_better = facts["metric"] == "rmse"
    champion, baseline = facts["champion_score"], facts["baseline_score"]
    assert (champion < 0.9 * baseline) if lower_is_better else (champion > baseline + 0.05)
    metrics = json.loads((project / "reports/metrics.json").read_text())
    assert metrics[facts["metric"]] == pytest.approx(champion, rel=1e-6)

    # 4. Nothing changed: a second repro runs nothing.
    second = repro(project)
    assert "Running stage" not in second
    assert "Data and pipelines are up to date" in second

    # 5. A changed parameter retrains; an unreachable gate keeps the champion.
    family = run["params"]["model_family"]

    def retrain_behind_an_unreachable_gate(params: dict) -> None:
        params["model"][family].update(CHANGED_HYPERPARAMETER[family])
        params["register"]["gate"]["min_improvement"] = 1e9

    edit_params(project, retrain_behind_an_unreachable_gate)
    third = repro(project)
    assert "Running stage 'train'" in third and "Running stage 'register'" in third
    assert "Running stage 'prepare'" not in third
    facts = project_facts(project)
    assert facts["aliases"] == {"champion": "1", "challenger": "2"}

    # 6. A gate any model passes promotes the next version.
    edit_params(project, lambda p: p["register"]["gate"].update(min_improvement=-1e9))
    fourth = repro(project)
    assert "Running stage 'train'" not in fourth and "Running stage 'register'" in fourth
    facts = project_facts(project)
    assert facts["aliases"] == {"champion": "3", "challenger": "3"}
    assert facts["versions"] == [1, 2, 3]

    # 7. Rollback from the CLI returns to the champion that v3 replaced.
    slug = yaml.safe_load((project / ".copier-answers.yml").read_text())["project_slug"]
    assert "rolled back to v1" in in_project(project, slug, "rollback").stdout
    assert project_facts(project)["aliases"]["champion"] == "1"
