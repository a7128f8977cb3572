"""params.yaml read together with schema.yaml: every name params.yaml gives
to a feature must be a feature of the schema, of the kind it is used as, so
a misnamed feature stops a command with one line naming it."""

from pathlib import Path

from .errors import ProjectError
from .paths import PARAMS_FILE, SCHEMA_FILE
from .schema import FeatureType, Schema, load_schema
from .settings import PREDICTION, Params, load_params


def load_config(
    params_path: Path = PARAMS_FILE, schema_path: Path = SCHEMA_FILE
) -> tuple[Params, Schema]:
    params, schema = load_params(params_path), load_schema(schema_path)
    problems = feature_name_problems(params, schema)
    if problems:
        heading = f"{params_path} names features that {schema_path} does not have:"
        raise ProjectError("\n".join([heading, *(f"  {p}" for p in problems)]))
    return params, schema


def feature_name_problems(params: Params, schema: Schema) -> list[str]:
    """One sentence per name in params.yaml that does not fit the schema."""
    features = {feature.name: feature for feature in schema.features}
    problems = [
        f"monitoring.features.{name}: not a feature of the schema (nor "
        f"{PREDICTION!r}, the thresholds of prediction drift)"
        for name in params.monitoring.features
        if name not in features and name != PREDICTION
    ]
    simulate = params.monitoring.simulate
    simulated_kinds: tuple[tuple[str, FeatureType], ...] = (
        ("numeric_feature", "numeric"),
        ("categorical_feature", "categorical"),
    )
    for field, kind in simulated_kinds:
        name = getattr(simulate, field)
        feature = features.get(name) if name is not None else None
        if name is not None and (feature is None or feature.type != kind):
            choices = ", ".join(schema.names_of(kind)) or "none"
            problems.append(
                f"monitoring.simulate.{field}: {name!r} is not a {kind} feature "
                f"(the schema's {kind} features: {choices})"
            )
    shifted = features.get(simulate.categorical_feature or "")
    categories = shifted.categories if shifted else None
    if shifted and categories and simulate.category not in categories:
        problems.append(
            f"monitoring.simulate.category: {simulate.category!r} is not one of "
            f"{shifted.name}'s categories {categories}"
        )
    return problems
