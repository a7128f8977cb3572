"""The feature pipeline, built from the column types declared in schema.yaml.

Every step from a record to a prediction is in the pipeline, missing values
included, so the model MLflow logs predicts the same wherever it is loaded
(`mlflow models serve`, pyfunc, Spark) as this project's own code does.
"""

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .schema import MISSING_CATEGORY, Schema


def _one_hot_encoder(schema: Schema) -> OneHotEncoder:
    # Columns come from the schema, not from the categories the training sample
    # happens to contain; unknown values become all-zero rows, not errors.
    categories = [
        [*(feature.categories or []), MISSING_CATEGORY]  # categorical: always set
        for feature in schema.features
        if feature.type == "categorical"
    ]
    return OneHotEncoder(
        categories=categories, handle_unknown="ignore", sparse_output=False
    )


def _fill_missing_category(missing_values: float | None) -> SimpleImputer:
    return SimpleImputer(
        missing_values=missing_values, strategy="constant", fill_value=MISSING_CATEGORY
    )


def _categorical_branch(schema: Schema) -> Pipeline:
    # A missing category arrives as NaN from pandas and as None from MLflow's
    # servers (a JSON null); one SimpleImputer finds only one of the two.
    # (pd.NA would find both, but skops cannot save it.)
    return Pipeline(
        [
            ("fill_nan", _fill_missing_category(np.nan)),
            ("fill_none", _fill_missing_category(None)),
            ("encode", _one_hot_encoder(schema)),
        ]
    )


def build_preprocessor(schema: Schema, scale: bool = True) -> ColumnTransformer:
    """`scale`: standardise numbers (for estimators that depend on their scale)."""
    numeric_steps = [("impute", SimpleImputer(strategy="median"))]
    if scale:
        numeric_steps.append(("scale", StandardScaler()))
    numeric = Pipeline(numeric_steps)
    categorical = _categorical_branch(schema)
    # Booleans arrive as numbers (1/0, NaN when missing), as the signature says.
    boolean = SimpleImputer(strategy="most_frequent")
    return ColumnTransformer(
        [
            ("numeric", numeric, schema.names_of("numeric")),
            ("categorical", categorical, schema.names_of("categorical")),
            ("boolean", boolean, schema.names_of("boolean")),
        ],
        remainder="drop",
        verbose_feature_names_out=False,
    )


def _categorical(values: pd.Series) -> pd.Series:
    as_text = values.map(lambda value: value if pd.isna(value) else str(value))
    return as_text.astype(object).where(values.notna(), MISSING_CATEGORY)


def _numeric(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.astype(object), errors="raise").astype(np.float64)


def model_input(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The feature columns in schema order, with the types of the model's
    MLflow signature, whatever types the source file used.

    Numbers and booleans become float64 with NaN for missing values; categories
    become object columns of str. The pipeline imputes missing values itself;
    a missing category still becomes MISSING_CATEGORY here, what it imputes,
    because models registered before it did expect it from here.
    """
    columns = {
        feature.name: (_categorical if feature.type == "categorical" else _numeric)(
            frame[feature.name]
        )
        for feature in schema.features
    }
    return pd.DataFrame(columns, index=frame.index)
