"""The feature pipeline, built from the column types declared in schema.yaml."""

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .schema import Schema

MISSING_CATEGORY = "missing"


def build_preprocessor(schema: Schema) -> ColumnTransformer:
    numeric = Pipeline(
        [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
    )
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY)),
            # Unknown categories at prediction time become all-zero rows, not errors.
            ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
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


def model_input(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The feature columns in schema order, with the dtypes the model expects.

    Numbers and booleans become float64 (NaN for missing); categories become
    object columns of str (None for missing), whatever the source file used.
    """
    columns = {}
    for feature in schema.features:
        values = frame[feature.name]
        if feature.type == "categorical":
            columns[feature.name] = (
                values.astype(object)
                .where(values.notna(), None)
                .map(lambda v: v if v is None else str(v))
            )
        else:
            columns[feature.name] = pd.to_numeric(
                values.astype(object), errors="raise"
            ).astype(np.float64)
    return pd.DataFrame(columns, index=frame.index)
