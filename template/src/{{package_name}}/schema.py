"""The model's input contract (schema.yaml), shared by every stage."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import ProjectError
from .paths import SCHEMA_FILE
from .settings import describe_validation_error, read_yaml
from .tasks import TASKS, Task

FeatureType = Literal["numeric", "categorical", "boolean"]

# What a missing categorical value becomes before one-hot encoding.
MISSING_CATEGORY = "missing"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Feature(_Strict):
    name: str = Field(min_length=1)
    type: FeatureType
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    categories: list[str] | None = None
    description: str = ""

    @model_validator(mode="after")
    def _fields_match_type(self) -> "Feature":
        if self.type == "categorical" and not self.categories:
            raise ValueError(f"categorical feature {self.name!r} needs categories")
        if self.type != "categorical" and self.categories is not None:
            raise ValueError(
                f"only categorical features take categories ({self.name!r})"
            )
        has_range = self.min is not None or self.max is not None
        if self.type != "numeric" and has_range:
            raise ValueError(f"only numeric features take min/max ({self.name!r})")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"feature {self.name!r} has min greater than max")
        return self


class Target(_Strict):
    name: str = Field(min_length=1)
    classes: list[int | str] | None = None
    positive_class: int | str | None = None
    min: float | None = None
    max: float | None = None
    description: str = ""


class Schema(_Strict):
    task: Task
    target: Target
    features: list[Feature] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "Schema":
        names = [feature.name for feature in self.features]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate feature names: {duplicates}")
        if self.target.name in names:
            raise ValueError(f"the target {self.target.name!r} is also a feature")
        classes = self.target.classes
        if self.is_classification:
            if not classes or len(classes) < 2:
                raise ValueError("a classification target needs at least two classes")
            if TASKS[self.task].binary and len(classes) != 2:
                raise ValueError("a binary target needs exactly two classes")
            positive = self.target.positive_class
            if positive is not None and positive not in classes:
                raise ValueError("target.positive_class must be one of target.classes")
        elif classes is not None:
            raise ValueError("a regression target takes min/max, not classes")
        return self

    @property
    def is_classification(self) -> bool:
        return TASKS[self.task].classifies

    @property
    def feature_names(self) -> list[str]:
        return [feature.name for feature in self.features]

    def names_of(self, feature_type: FeatureType) -> list[str]:
        return [f.name for f in self.features if f.type == feature_type]

    @property
    def positive_class(self) -> int | str | None:
        """The class the binary metrics score (the last class by default)."""
        if not TASKS[self.task].binary:
            return None
        if self.target.positive_class is not None:
            return self.target.positive_class
        return (self.target.classes or [])[-1]


def load_schema(path: Path = SCHEMA_FILE) -> Schema:
    try:
        return Schema.model_validate(read_yaml(path))
    except ValidationError as error:
        raise ProjectError(describe_validation_error(str(path), error)) from error
