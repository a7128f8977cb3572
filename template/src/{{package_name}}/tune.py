"""Search the model's hyperparameters with Optuna (params.yaml, section tune).

Each trial is scored by cross-validation on the training split with the
gate's metric: the holdout, on which evaluate and the gate judge the model,
is never seen. Every trial is an MLflow run nested under one "tune" run; the
best values go to models/tuned_params.json, which the train stage reads.
"""

import sys
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold

from . import tracking
from .errors import ProjectError
from .estimators import check_hyperparameters, fitting_errors, fitting_problem
from .evaluate import score
from .metrics import Metric, metric_for
from .paths import DATASET_FILE, SCHEMA_FILE, TUNED_PARAMS_FILE
from .schema import Schema
from .settings import Params, SearchDimension
from .train import fitted_pipeline, split_dataset
from .tuned import TuningResult, with_tuned, write_result

try:
    import optuna
except ImportError as error:
    raise ProjectError(
        "params.yaml tune.enabled is true but Optuna is not installed: install "
        "the project's tune extra (`uv sync --extra tune` or `pip install '.[tune]'`)"
    ) from error

Folds = list[tuple[np.ndarray, np.ndarray]]
# Rows (per class, for classifiers) each value of the space is tried on before
# the search: enough for every family to fit, few enough to fit in a moment.
TRIAL_FIT_ROWS = 100


def tune(params: Params, schema: Schema) -> TuningResult:
    """Run the search, log it to MLflow and write the best values for train."""
    space = search_space(params, schema)
    train_frame, _ = split_dataset(schema, params)  # the holdout is left unseen
    try_each_value(params, schema, space, train_frame)
    folds = cv_folds(train_frame, schema, params)
    metric = metric_for(schema.task, params.registry.gate.metric)
    study = optuna.create_study(
        study_name=f"tune {params.model.family}",
        direction="maximize" if metric.greater_is_better else "minimize",
        sampler=optuna.samplers.TPESampler(seed=params.seed),
    )
    experiment_id = tracking.use_experiment(params.mlflow.experiment)

    def objective(trial: optuna.Trial) -> float:
        values = {name: suggest(trial, name, dim) for name, dim in space.items()}
        # The experiment named, not inherited: a new one is not the active one.
        with mlflow.start_run(
            experiment_id=experiment_id, run_name=f"trial {trial.number}", nested=True
        ):
            mlflow.log_params(values)
            try:
                scores = cross_validate(
                    with_tuned(params, values), schema, train_frame, folds, metric
                )
            # Values that fit one by one (try_each_value) may still fail together.
            except fitting_errors(params.model.family) as error:
                raise ProjectError(
                    f"params.yaml tune.space.{params.model.family}: trial "
                    f"{trial.number} with {values} failed: {fitting_problem(error)}"
                ) from error
            mean, spread = float(scores.mean()), float(scores.std())
            mlflow.log_metrics(
                {f"cv_{metric.name}": mean, f"cv_{metric.name}_std": spread}
            )
        return mean

    settings = params.tune
    with mlflow.start_run(experiment_id=experiment_id, run_name="tune") as run:
        mlflow.log_params(_logged_settings(params, metric, len(train_frame)))
        mlflow.set_tags(tracking.lineage_tags(DATASET_FILE, SCHEMA_FILE))
        study.optimize(
            objective,
            n_trials=settings.n_trials,
            timeout=settings.timeout_seconds,
            show_progress_bar=sys.stderr.isatty(),
        )
        best = study.best_trial
        mlflow.log_params({f"best.{name}": v for name, v in best.params.items()})
        mlflow.log_metric(f"best_cv_{metric.name}", study.best_value)
        result = TuningResult(
            enabled=True,
            family=params.model.family,
            hyperparameters=best.params,
            metric=metric.name,
            cv_score=study.best_value,
            cv_folds=settings.cv_folds,
            trials=len(study.trials),
            run_id=run.info.run_id,
        )
        write_result(result)
        mlflow.log_artifact(str(TUNED_PARAMS_FILE))
    return result


def search_space(params: Params, schema: Schema) -> dict[str, SearchDimension]:
    """params.yaml tune.space.<family>, checked against the estimator."""
    family = params.model.family
    space = params.tune.space.get(family)
    if not space:
        raise ProjectError(
            f"params.yaml tune.space.{family}: no search space for model family "
            f"{family}; add one (README, Tuning)"
        )
    check_hyperparameters(schema.task, family, space, f"tune.space.{family}")
    return space


def try_each_value(
    params: Params,
    schema: Schema,
    space: dict[str, SearchDimension],
    frame: pd.DataFrame,
) -> None:
    """Fit once with each choice and each end of each range, on a few rows:
    a value the estimator refuses is named before the search starts, not at
    whichever trial first draws it, under Optuna's traceback."""
    family = params.model.family
    few_rows = _few_rows(frame, schema)
    for name, dimension in space.items():
        for value in values_to_try(dimension):
            try:
                fitted_pipeline(few_rows, schema, with_tuned(params, {name: value}))
            except fitting_errors(family) as error:
                raise ProjectError(
                    f"params.yaml tune.space.{family}.{name}: {value!r} fails "
                    f"(with model.{family}'s other values): {fitting_problem(error)}"
                ) from error


def values_to_try(dimension: SearchDimension) -> list[Any]:
    """Every choice, or both ends of the range as suggest draws them."""
    if dimension.choices is not None:
        return list(dimension.choices)
    assert dimension.low is not None and dimension.high is not None
    cast = int if dimension.kind == "int" else float
    return [cast(dimension.low), cast(dimension.high)]


def _few_rows(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The first TRIAL_FIT_ROWS rows, of each class for classifiers (a
    classifier fails on fewer than two classes, whatever its values)."""
    if schema.is_classification:
        return frame.groupby(schema.target.name).head(TRIAL_FIT_ROWS)
    return frame.head(TRIAL_FIT_ROWS)


def suggest(trial: optuna.Trial, name: str, dimension: SearchDimension) -> Any:
    if dimension.kind == "choices":
        assert dimension.choices is not None  # SearchDimension checks it
        return trial.suggest_categorical(name, dimension.choices)
    assert dimension.low is not None and dimension.high is not None
    if dimension.kind == "int":
        low, high = int(dimension.low), int(dimension.high)
        return trial.suggest_int(name, low, high, log=dimension.log)
    return trial.suggest_float(
        name, float(dimension.low), float(dimension.high), log=dimension.log
    )


def cv_folds(frame: pd.DataFrame, schema: Schema, params: Params) -> Folds:
    """The same folds for every trial, stratified by class for classifiers."""
    splitter_class = StratifiedKFold if schema.is_classification else KFold
    splitter = splitter_class(
        n_splits=params.tune.cv_folds, shuffle=True, random_state=params.seed
    )
    try:
        return list(splitter.split(frame, frame[schema.target.name]))
    except ValueError as error:
        raise ProjectError(f"params.yaml tune.cv_folds: {error}") from error


def cross_validate(
    params: Params, schema: Schema, frame: pd.DataFrame, folds: Folds, metric: Metric
) -> np.ndarray:
    """The metric of params' model on each fold, fitted on the other folds."""
    scores = []
    for fit_rows, score_rows in folds:
        pipeline = fitted_pipeline(frame.iloc[fit_rows], schema, params)
        scores.append(score(pipeline, frame.iloc[score_rows], schema)[0][metric.name])
    return np.array(scores)


def _logged_settings(params: Params, metric: Metric, train_rows: int) -> dict:
    settings = params.tune
    return {
        "model_family": params.model.family,
        "tune.n_trials": settings.n_trials,
        "tune.timeout_seconds": settings.timeout_seconds,
        "tune.cv_folds": settings.cv_folds,
        "tune.metric": metric.name,
        "seed": params.seed,
        "train_rows": train_rows,
    }
