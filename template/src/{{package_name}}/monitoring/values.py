"""A feature's column as the statistics need it, whatever the file held:
numbers for numeric features, strings for categorical and boolean ones.
Values of the wrong type become missing and are counted, never raised."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..schema import Feature

BOOLEANS = {
    True: "true",
    False: "false",
    "true": "true",
    "false": "false",
    "1": "true",
    "0": "false",
}


@dataclass
class Column:
    values: pd.Series  # usable values, missing ones dropped
    missing: int  # missing in the data
    invalid: int  # present but of the wrong type


def column(series: pd.Series, feature: Feature) -> Column:
    present = series.notna()
    if feature.type == "numeric":
        converted = pd.to_numeric(series.where(present), errors="coerce")
        converted = converted.where(np.isfinite(converted))
    elif feature.type == "boolean":
        converted = series.map(lambda value: BOOLEANS.get(_plain(value)))
    elif isinstance(series.dtype, pd.StringDtype):
        converted = series  # a string column: every present value is a string
    else:
        converted = series.where(present).map(
            lambda value: value if isinstance(value, str) else None
        )
    usable = converted.notna()
    return Column(
        values=converted[usable],
        missing=int((~present).sum()),
        invalid=int((present & ~usable).sum()),
    )


def _plain(value):
    """numpy booleans and 0/1 as Python booleans; strings lower-cased; None
    for anything else (lists, pandas' NA), which then counts as invalid."""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
        return bool(value)
    return None
