"""Data quality of the current window against schema.yaml and the reference:
missing values, wrong types, out-of-range numbers, unseen categories."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..schema import Feature, Schema
from .values import column

# A rise in a feature's missing share larger than this is a problem.
MISSING_SHARE_RISE = 0.1


@dataclass(frozen=True)
class FeatureQuality:
    feature: str
    missing_share: float
    reference_missing_share: float
    invalid: int  # present but of the wrong type
    out_of_range: int  # numbers outside the schema's min/max
    unseen: int  # categories the schema does not list
    problems: list[str] = field(default_factory=list)


def feature_quality(
    feature: Feature, reference: pd.Series, current: pd.Series
) -> FeatureQuality:
    cur, ref = column(current, feature), column(reference, feature)
    rows = max(len(current), 1)
    missing_share = cur.missing / rows
    reference_missing_share = ref.missing / max(len(reference), 1)
    out_of_range = unseen = 0
    if feature.type == "numeric":
        low = -np.inf if feature.min is None else feature.min
        high = np.inf if feature.max is None else feature.max
        out_of_range = int((~cur.values.between(low, high)).sum())
    elif feature.type == "categorical" and feature.categories:
        unseen = int((~cur.values.isin(feature.categories)).sum())

    problems = []
    if cur.missing and not feature.nullable:
        problems.append(f"{cur.missing} missing values; schema says never missing")
    if missing_share - reference_missing_share > MISSING_SHARE_RISE:
        problems.append(
            f"missing share {missing_share:.1%} vs {reference_missing_share:.1%} "
            "in the reference"
        )
    if cur.invalid:
        problems.append(f"{cur.invalid} values of the wrong type")
    if out_of_range:
        problems.append(f"{out_of_range} values outside [{feature.min}, {feature.max}]")
    if unseen:
        problems.append(f"{unseen} values not among the schema's categories")
    return FeatureQuality(
        feature=feature.name,
        missing_share=missing_share,
        reference_missing_share=reference_missing_share,
        invalid=cur.invalid,
        out_of_range=out_of_range,
        unseen=unseen,
        problems=problems,
    )


def window_quality(
    schema: Schema, reference: pd.DataFrame, current: pd.DataFrame
) -> list[FeatureQuality]:
    return [
        feature_quality(feature, reference[feature.name], current[feature.name])
        for feature in schema.features
    ]
