"""The train/holdout split, decided row by row from each row's values.

A row goes to the holdout when a seeded hash of its values falls below
data.test_size. So a row stays on its side when rows are added, removed or
reordered: a champion trained on last month's data does not find its
training rows in this month's holdout, where the gate scores it against the
challenger (a random split drawn anew would put about data.test_size of
them there, and flatter the champion). Identical rows share a side, so a
duplicate never tests a model on a row it learnt.
"""

import hashlib

import numpy as np
import pandas as pd

from .schema import Schema
from .settings import Params

HASH_KEY_CHARS = 16  # pandas' hash key is 16 bytes
# The run tag naming how the run's data was split (split_signature): the gate
# compares it with the champion's to know whether the holdout may hold rows
# the champion learnt.
SPLIT_TAG = "holdout_split"
RULE = "row-hash"


def split(frame: pd.DataFrame, schema: Schema, params: Params):
    """(train, holdout) of `frame`; a ValueError when a class (or, for
    regression, the table) has too few rows for both."""
    fractions = row_fractions(frame, schema, params.seed)
    in_holdout = fractions < params.data.test_size
    if schema.is_classification:
        groups = frame[schema.target.name]
    else:
        groups = pd.Series("all rows", index=frame.index)
    in_holdout = with_both_sides(groups, fractions, in_holdout)
    return frame[~in_holdout], frame[in_holdout]


def hashed_columns(schema: Schema) -> list[str]:
    """The schema's columns only: columns the prepared data keeps beside
    them do not move rows."""
    return [*schema.feature_names, schema.target.name]


def row_fractions(frame: pd.DataFrame, schema: Schema, seed: int) -> np.ndarray:
    """Each row's place in [0, 1), from a seeded hash of its hashed_columns."""
    key = f"{seed % 10**HASH_KEY_CHARS:0{HASH_KEY_CHARS}d}"
    hashes = pd.util.hash_pandas_object(
        frame[hashed_columns(schema)], index=False, hash_key=key
    )
    return hashes.to_numpy() / 2.0**64


def with_both_sides(
    groups: pd.Series, fractions: np.ndarray, in_holdout: np.ndarray
) -> np.ndarray:
    """`in_holdout`, with every group on both sides: a class the threshold
    left out of one side gives it its row nearest the threshold, so that
    small data still has every class to learn and to score."""
    in_holdout = in_holdout.copy()
    for label, positions in groups.groupby(groups, observed=True).indices.items():
        rows = np.asarray(positions)
        if len(rows) < 2:
            raise ValueError(f"{label!r} has 1 row, too few for train and holdout")
        ordered = rows[np.argsort(fractions[rows])]
        if not in_holdout[rows].any():
            in_holdout[ordered[0]] = True
        if in_holdout[rows].all():
            in_holdout[ordered[-1]] = False
    return in_holdout


def split_signature(schema: Schema, params: Params) -> str:
    """What decides each row's side: the rule, the seed, the share and the
    columns hashed. Two runs with the same signature split any rows alike."""
    columns = ",".join(hashed_columns(schema))
    digest = hashlib.sha256(columns.encode()).hexdigest()[:12]
    return (
        f"{RULE} seed={params.seed} test_size={params.data.test_size} columns={digest}"
    )
