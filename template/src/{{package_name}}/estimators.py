"""Model families: one name in params.yaml, the right estimator for the task."""

import inspect

from sklearn.base import BaseEstimator
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge

from .errors import ProjectError
from .tasks import TASKS

ESTIMATORS = {
    ("classification", "random_forest"): RandomForestClassifier,
    ("classification", "gradient_boosting"): HistGradientBoostingClassifier,
    ("classification", "linear"): LogisticRegression,
    ("regression", "random_forest"): RandomForestRegressor,
    ("regression", "gradient_boosting"): HistGradientBoostingRegressor,
    ("regression", "linear"): Ridge,
}

# What a fitted model keeps for prediction, whatever params.yaml trained it
# with: a server answers many small requests at once, and a thread pool per
# request (n_jobs=-1) costs more than it saves. Gradient boosting predicts
# with OpenMP threads, which only OMP_NUM_THREADS sets; linear models use one.
SERVING_SETTINGS: dict[str, dict] = {
    "random_forest": {"n_jobs": 1},
    "gradient_boosting": {},
    "linear": {},
}


def build_estimator(
    task: str, family: str, hyperparameters: dict, seed: int
) -> BaseEstimator:
    kind = "classification" if TASKS[task].classifies else "regression"
    estimator_class = ESTIMATORS[(kind, family)]
    accepted = inspect.signature(estimator_class).parameters
    unknown = sorted(set(hyperparameters) - set(accepted))
    if unknown:
        raise ProjectError(
            f"params.yaml model.{family}: {estimator_class.__name__} "
            f"has no parameter(s) {unknown}"
        )
    settings = dict(hyperparameters)
    if "random_state" in accepted:
        settings.setdefault("random_state", seed)
    try:
        return estimator_class(**settings)
    except (TypeError, ValueError) as error:
        raise ProjectError(f"params.yaml model.{family}: {error}") from error


def prepare_for_serving(estimator: BaseEstimator, family: str) -> None:
    """Switch a fitted estimator to its SERVING_SETTINGS (training is over)."""
    estimator.set_params(**SERVING_SETTINGS[family])
