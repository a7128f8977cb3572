"""The feature pipeline, built from the column types declared in schema.yaml."""

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .schema import Schema

MISSING_CATEGORY = "missing"


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


def build_preprocessor(schema: Schema) -> ColumnTransformer:
    numeric = Pipeline(
        [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
    )
    # Missing categories arrive as MISSING_CATEGORY (see model_input), so the
    # encoder needs no imputer; that keeps the pipeline convertible to ONNX.
    categorical = _one_hot_encoder(schema)
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
    """The feature columns in schema order, with the dtypes the model expects.

    Numbers and booleans become float64 with NaN for missing values; categories
    become object columns of str with MISSING_CATEGORY for missing values,
    whatever types the source file used.
    Every caller (training, evaluation, prediction) goes through here.
    """
    columns = {
        feature.name: (_categorical if feature.type == "categorical" else _numeric)(
            frame[feature.name]
        )
        for feature in schema.features
    }
    return pd.DataFrame(columns, index=frame.index)
