"""Read and check params.yaml once, so bad values fail early with a clear message."""

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ProjectError
from .paths import PARAMS_FILE

ModelFamily = Literal[
    "random_forest", "gradient_boosting", "linear", "lightgbm", "xgboost"
]
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Strict(BaseModel):
    # A misspelt key is an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid")


class DataParams(_Strict):
    source: Literal["synthetic", "file", "sql"] = "synthetic"
    path: str | None = None
    query: str | None = None
    query_file: str | None = None
    url_env: str = "DATABASE_URL"
    # Rows whose target is missing: dropped (and counted) by prepare when
    # true; when false the validate stage reports them as errors.
    drop_missing_target: bool = False
    n_rows: int = Field(5000, gt=0)
    test_size: float = Field(0.2, gt=0, lt=1)

    @field_validator("query", "query_file")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value if value and value.strip() else None

    @field_validator("url_env")
    @classmethod
    def _a_variable_name(cls, value: str) -> str:
        # Not echoed back: a URL pasted here by mistake holds a password.
        if not ENV_NAME.fullmatch(value):
            raise ValueError(
                "must be the NAME of an environment variable (e.g. DATABASE_URL) "
                "that holds the database URL, not the URL itself"
            )
        return value

    @model_validator(mode="after")
    def _settings_of_the_source(self) -> "DataParams":
        if self.source == "file" and not self.path:
            raise ValueError('data.path is required when data.source is "file"')
        if self.source == "sql" and not (self.query or self.query_file):
            raise ValueError(
                'data.query or data.query_file is required when data.source is "sql"'
            )
        if self.source == "sql" and self.query and self.query_file:
            raise ValueError(
                "data.query and data.query_file are both set: keep one of them"
            )
        return self


class ModelParams(_Strict):
    family: ModelFamily
    random_forest: dict[str, Any] = {}
    gradient_boosting: dict[str, Any] = {}
    linear: dict[str, Any] = {}
    lightgbm: dict[str, Any] = {}
    xgboost: dict[str, Any] = {}

    def hyperparameters(self) -> dict[str, Any]:
        return dict(getattr(self, self.family) or {})


class SearchDimension(_Strict):
    """One hyperparameter's search range: `choices`, or `low` to `high`
    (integers when both bounds are, unless `type` says otherwise; `log`
    samples evenly across orders of magnitude)."""

    low: int | float | None = None
    high: int | float | None = None
    log: bool = False
    type: Literal["int", "float"] | None = None
    choices: list[str | bool | int | float | None] | None = None

    @model_validator(mode="after")
    def _a_range_or_choices(self) -> "SearchDimension":
        if self.choices is not None:
            ranged = self.low is not None or self.high is not None
            if ranged or self.log or self.type:
                raise ValueError("give either choices or low/high, not both")
            if not self.choices:
                raise ValueError("choices is empty")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give low and high (a range) or choices (a list)")
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError("log: true needs low above 0")
        if self.type == "int" and not (_integral(self.low) and _integral(self.high)):
            raise ValueError("type: int needs whole-number low and high")
        return self

    @property
    def kind(self) -> Literal["choices", "int", "float"]:
        if self.choices is not None:
            return "choices"
        if self.type is not None:
            return self.type
        integers = isinstance(self.low, int) and isinstance(self.high, int)
        return "int" if integers else "float"


def _integral(value: float | None) -> bool:
    return value is not None and float(value).is_integer()


class TuneParams(_Strict):
    enabled: bool = False
    # The budget: the search stops at whichever comes first.
    n_trials: int | None = Field(30, gt=0)
    timeout_seconds: float | None = Field(None, gt=0)
    cv_folds: int = Field(5, ge=2)
    # Per model family: the hyperparameters to search, each a SearchDimension.
    space: dict[ModelFamily, dict[str, SearchDimension]] = {}

    @model_validator(mode="after")
    def _a_budget(self) -> "TuneParams":
        if self.n_trials is None and self.timeout_seconds is None:
            raise ValueError("set n_trials, timeout_seconds or both: the search's end")
        return self


class TrackingParams(_Strict):
    experiment: str = Field(min_length=1)


class GateParams(_Strict):
    metric: str
    min_improvement: float = 0.0
    # A labelled CSV/Parquet file both models are also scored on, for the record.
    reference: str | None = None


class RegisterParams(_Strict):
    model_name: str = Field(min_length=1)
    gate: GateParams


def champion_uri(model_name: str) -> str:
    """The registry URI of the model's champion version."""
    return f"models:/{model_name}@champion"


class QualityParams(_Strict):
    metric: str
    min_gain: float = Field(0.0, ge=0)


# The served prediction's column, and the key of monitoring.features that
# sets the thresholds of prediction drift.
PREDICTION = "prediction"


class FeatureThresholds(_Strict):
    alpha: float | None = Field(None, gt=0, lt=1)
    min_psi: float | None = Field(None, ge=0)
    # Left out: the default; null: this feature never makes the data set drift alone.
    severe_psi: float | None = Field(None, ge=0)


class SimulatedShift(_Strict):
    numeric_feature: str | None = None
    numeric_factor: float = Field(1.35, gt=0)
    categorical_feature: str | None = None
    category: str | None = None
    category_share: float = Field(0.5, gt=0, le=1)

    @model_validator(mode="after")
    def _something_to_shift(self) -> "SimulatedShift":
        if self.numeric_feature is None and self.categorical_feature is None:
            raise ValueError("name a numeric_feature, a categorical_feature or both")
        if self.categorical_feature is not None and self.category is None:
            raise ValueError("category is required with categorical_feature")
        return self


class ShadowParams(_Strict):
    """Champion vs challenger, when the service runs a shadow model."""

    # Regression: the two agree on a row when their predictions differ by at
    # most this share of the larger one (math.isclose's rel_tol).
    agreement_tolerance: float = Field(0.05, ge=0)
    # Fewer labelled rows than this never recommend promoting the challenger.
    min_labelled_rows: int = Field(200, gt=0)


class MonitoringParams(_Strict):
    window_hours: float = Field(24, gt=0)
    min_rows: int = Field(200, gt=0)
    alpha: float = Field(0.01, gt=0, lt=1)
    min_psi: float = Field(0.1, ge=0)
    features: dict[str, FeatureThresholds] = {}
    drift_share: float = Field(0.2, gt=0, le=1)
    severe_psi: float | None = Field(1.0, ge=0)  # None: the severe-shift rule is off
    max_metric_drop: float = Field(0.05, ge=0)
    shadow: ShadowParams = ShadowParams()
    simulate: SimulatedShift

    def thresholds(self, feature: str) -> tuple[float, float, float | None]:
        """(alpha, min_psi, severe_psi) of one feature: its override, else the
        default. An explicit `severe_psi: null` override turns the rule off."""
        override = self.features.get(feature, FeatureThresholds())
        alpha = self.alpha if override.alpha is None else override.alpha
        min_psi = self.min_psi if override.min_psi is None else override.min_psi
        overridden = "severe_psi" in override.model_fields_set
        severe_psi = override.severe_psi if overridden else self.severe_psi
        return alpha, min_psi, severe_psi


class Params(_Strict):
    seed: int = 42
    data: DataParams
    model: ModelParams
    tune: TuneParams = TuneParams()
    mlflow: TrackingParams
    # `register` would shadow a pydantic attribute; the YAML key stays `register`.
    registry: RegisterParams = Field(alias="register")
    quality: QualityParams
    monitoring: MonitoringParams


def describe_validation_error(source: str, error: ValidationError) -> str:
    """One line per problem, naming the field by its dotted path."""
    lines = [f"{source} is not valid:"]
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        lines.append(f"  {where}: {problem['msg']}")
    return "\n".join(lines)


# libyaml's loader (in PyYAML's wheels) reads params.yaml in a tenth of the
# time of the pure-Python one, and every command reads it.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise ProjectError(f"{path} not found (run commands from the project root)")
    text = path.read_text()
    try:
        return yaml.load(text, Loader=SAFE_LOADER) or {}
    except yaml.YAMLError as error:
        raise ProjectError(
            f"{path} is not valid YAML: {yaml_problem(path, text, error)}"
        ) from error


def yaml_problem(path: Path, text: str, error: yaml.YAMLError) -> str:
    """`error` as the pure-Python parser words it: libyaml's gives the line
    and column, this one also quotes the line with a caret under the problem.
    Parsing twice costs nothing that matters on a file that is broken."""
    loader = yaml.SafeLoader(text)
    loader.name = str(path)  # instead of "<unicode string>"
    try:
        loader.get_single_data()
    except yaml.YAMLError as worded:
        return str(worded)
    finally:
        loader.dispose()
    return str(error)


def load_params(path: Path = PARAMS_FILE) -> Params:
    try:
        return Params.model_validate(read_yaml(path))
    except ValidationError as error:
        raise ProjectError(describe_validation_error(str(path), error)) from error
