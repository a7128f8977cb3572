"""The tune stage's result (models/tuned_params.json) and how train applies it.

Kept apart from tune.py, which imports Optuna, scikit-learn and MLflow: with
tuning off the tune stage only writes an "off" record, and must start fast.
"""

from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import ProjectError
from .paths import TUNED_PARAMS_FILE
from .settings import Params


class TuningResult(BaseModel):
    enabled: bool
    family: str | None = None
    # The best trial's values; train lays them over params.yaml model.<family>.
    hyperparameters: dict[str, Any] = {}
    metric: str | None = None
    cv_score: float | None = None
    cv_folds: int | None = None
    trials: int | None = None
    run_id: str | None = None  # the MLflow "tune" run, parent of the trials


# Written when params.yaml tune.enabled is false: train then ignores the file.
TUNING_OFF = TuningResult(enabled=False)


def write_result(result: TuningResult) -> None:
    TUNED_PARAMS_FILE.parent.mkdir(parents=True, exist_ok=True)
    text = result.model_dump_json(indent=2, exclude_defaults=True)
    TUNED_PARAMS_FILE.write_text(text + "\n")


def read_result() -> TuningResult:
    if not TUNED_PARAMS_FILE.is_file():
        raise ProjectError(
            f"{TUNED_PARAMS_FILE} not found: tune.enabled is true, so run the "
            "tune stage first (`dvc repro`)"
        )
    try:
        return TuningResult.model_validate_json(TUNED_PARAMS_FILE.read_text())
    except ValidationError as error:
        raise ProjectError(f"{TUNED_PARAMS_FILE} is not valid: {error}") from error


def tuning_for_training(params: Params) -> TuningResult | None:
    """The tuning train must use: None when params.yaml turns tuning off,
    whatever the file holds, so a tuning left over from earlier never sneaks
    into a model."""
    if not params.tune.enabled:
        return None
    result = read_result()
    family = params.model.family
    if not result.enabled or result.family != family:
        tuned = result.family if result.enabled else "nothing (tuning was off)"
        raise ProjectError(
            f"{TUNED_PARAMS_FILE} holds a tuning of {tuned}, not of model.family "
            f"{family}: run the tune stage again (`dvc repro`)"
        )
    return result


def with_tuned(params: Params, hyperparameters: dict[str, Any]) -> Params:
    """params with `hyperparameters` laid over model.<family>: the values the
    search covers are replaced, the others (n_jobs, ...) kept."""
    family = params.model.family
    merged = params.model.hyperparameters() | hyperparameters
    model = params.model.model_copy(update={family: merged})
    return params.model_copy(update={"model": model})
