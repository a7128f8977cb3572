"""Model families: one name in params.yaml, the right estimator for the task."""

import importlib
import importlib.metadata
import inspect
import re
from collections.abc import Iterable

from sklearn.base import BaseEstimator
from sklearn.multiclass import OneVsRestClassifier

from .errors import ProjectError
from .tasks import TASKS

# "module.Class", imported when a family is built: LightGBM and XGBoost are
# optional dependencies (FAMILY_EXTRAS), installed only where they are used.
ESTIMATORS = {
    ("classification", "random_forest"): "sklearn.ensemble.RandomForestClassifier",
    ("classification", "gradient_boosting"): (
        "sklearn.ensemble.HistGradientBoostingClassifier"
    ),
    ("classification", "linear"): "sklearn.linear_model.LogisticRegression",
    ("classification", "lightgbm"): "lightgbm.LGBMClassifier",
    ("classification", "xgboost"): "xgboost.XGBClassifier",
    ("regression", "random_forest"): "sklearn.ensemble.RandomForestRegressor",
    ("regression", "gradient_boosting"): (
        "sklearn.ensemble.HistGradientBoostingRegressor"
    ),
    ("regression", "linear"): "sklearn.linear_model.Ridge",
    ("regression", "lightgbm"): "lightgbm.LGBMRegressor",
    ("regression", "xgboost"): "xgboost.XGBRegressor",
}

# The pyproject.toml extra that installs a family's library (and its ONNX
# converter); families not listed need scikit-learn only.
FAMILY_EXTRAS = {"lightgbm": "lightgbm", "xgboost": "xgboost"}

# Settings the project gives a family unless params.yaml sets them.
FAMILY_DEFAULTS: dict[str, dict] = {
    # LightGBM prints a warning per tree that cannot split further.
    "lightgbm": {"verbose": -1},
}

# What a fitted model keeps for prediction, whatever params.yaml trained it
# with: a server answers many small requests at once, and a thread pool per
# request (n_jobs=-1) costs more than it saves. Gradient boosting predicts
# with OpenMP threads, which only OMP_NUM_THREADS sets; linear models use one.
# LightGBM and XGBoost serve through ONNX; their own threads help batch scoring.
SERVING_SETTINGS: dict[str, dict] = {
    "random_forest": {"n_jobs": 1},
    "gradient_boosting": {},
    "linear": {},
    "lightgbm": {},
    "xgboost": {},
}


# Families whose estimator depends on the scale of numbers. Trees do not: a
# threshold moves with the scale. Scaling would only add rounding: ONNX scales
# in float32, scikit-learn in float64, and a value on a split point (XGBoost
# splits on training values) would land on either side.
SCALED_FAMILIES = {"linear"}


def estimator_class(kind: str, family: str) -> type[BaseEstimator]:
    """The estimator class of a family, with one line saying what to install
    when its library is missing."""
    module_name, class_name = ESTIMATORS[(kind, family)].rsplit(".", 1)
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        extra = FAMILY_EXTRAS.get(family, family)
        raise ProjectError(
            f"params.yaml model.family: {family} needs the {extra!r} extra, which "
            f"is not installed: run `uv sync --extra {extra}` (README, Model families)"
        ) from error
    return getattr(module, class_name)


def _kind(task: str) -> str:
    return "classification" if TASKS[task].classifies else "regression"


def accepted_parameters(task: str, family: str) -> set[str]:
    """The hyperparameters a family's estimator takes, for this task."""
    chosen = estimator_class(_kind(task), family)
    # XGBoost's classes take their parameters as **kwargs; get_params knows them.
    named = set(inspect.signature(chosen).parameters) - {"kwargs"}
    return named | set(chosen().get_params()) | set(FAMILY_DEFAULTS.get(family, {}))


def check_hyperparameters(
    task: str, family: str, names: Iterable[str], where: str
) -> None:
    """One line naming params.yaml's `where` when the estimator lacks a name."""
    unknown = sorted(set(names) - accepted_parameters(task, family))
    if unknown:
        chosen = estimator_class(_kind(task), family)
        raise ProjectError(
            f"params.yaml {where}: {chosen.__name__} has no parameter(s) {unknown}"
        )


def build_estimator(
    task: str, family: str, hyperparameters: dict, seed: int
) -> BaseEstimator:
    kind = _kind(task)
    chosen = estimator_class(kind, family)
    check_hyperparameters(task, family, hyperparameters, f"model.{family}")
    settings = {**FAMILY_DEFAULTS.get(family, {}), **hyperparameters}
    if "random_state" in accepted_parameters(task, family):
        settings.setdefault("random_state", seed)
    try:
        estimator = chosen(**settings)
    except (TypeError, ValueError) as error:
        raise ProjectError(f"params.yaml model.{family}: {error}") from error
    if family == "xgboost" and kind == "classification":
        # XGBoost takes classes 0..k-1 only. One-vs-rest takes any labels, as
        # scikit-learn's classifiers do, and is a scikit-learn class, so the
        # logged model needs no code of this project: with two classes it
        # fits the one model XGBoost would; with more, one model per class.
        return OneVsRestClassifier(estimator)
    return estimator


def fitting_errors(family: str) -> tuple[type[Exception], ...]:
    """What fitting raises for a hyperparameter value the estimator refuses:
    scikit-learn's ValueError or TypeError (XGBoost's XGBoostError is a
    ValueError) and, for LightGBM, its own LightGBMError."""
    if family == "lightgbm":
        # Imported only here: build_estimator has imported LightGBM already.
        from lightgbm.basic import LightGBMError

        return (ValueError, TypeError, LightGBMError)
    return (ValueError, TypeError)


def fitting_problem(error: Exception) -> str:
    """The first line of a fitting error: XGBoost adds the parameter's
    documentation below it, LightGBM the C++ file that checked it."""
    first = (str(error).splitlines() or [type(error).__name__])[0]
    return re.sub(r" at \S+, line \d+ \.$", "", first)


def family_requirements(family: str) -> list[str]:
    """The pinned distributions (beyond scikit-learn) that a model of this
    family needs, for the MLflow consumers that install a model's requirements."""
    if family not in FAMILY_EXTRAS:
        return []
    module = ESTIMATORS[("regression", family)].split(".")[0]
    # XGBoost comes as xgboost or xgboost-cpu: whichever is installed.
    names = importlib.metadata.packages_distributions().get(module, [])
    return [f"{name}=={importlib.metadata.version(name)}" for name in sorted(names)]


def prepare_for_serving(estimator: BaseEstimator, family: str) -> None:
    """Switch a fitted estimator to its SERVING_SETTINGS (training is over)."""
    estimator.set_params(**SERVING_SETTINGS[family])
