"""Bucket edges for the service's histogram of regression predictions, taken
from the training target so that they fit its scale (house prices in the
millions or a rate between 0 and 1 alike). They travel with the model, in
its MLmodel file's metadata."""

import itertools
import math
from typing import Any

import numpy as np

METADATA_KEY = "prediction_buckets"
# 13 edges, 12 buckets: the target's minimum, its quantiles, its maximum.
QUANTILES = np.linspace(0, 1, 13)


def prediction_buckets(target) -> list[float]:
    """Increasing, distinct edges from the target's minimum to its maximum at
    its quantiles, rounded to a hundredth of its range (whole numbers for a
    whole-number target) so that they read well in a dashboard."""
    values = np.asarray(target, dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return []
    low, high = float(values.min()), float(values.max())
    spread = high - low or abs(high) or 1.0
    decimals = -math.floor(math.log10(spread / 100))
    whole = bool(np.all(values == np.round(values)))
    if whole:
        decimals = min(decimals, 0)
    scale = 10.0**decimals
    inner = [round(float(q), decimals) for q in np.quantile(values, QUANTILES[1:-1])]
    first = round(math.floor(low * scale) / scale, decimals)
    last = round(math.ceil(high * scale) / scale, decimals)
    edges = sorted({first, *inner, last})
    return [int(edge) for edge in edges] if whole else edges


def buckets_from_metadata(metadata: dict[str, Any] | None) -> list[float] | None:
    """The edges stored with a model, or None for a model saved without them
    (an older version) or with edges a histogram cannot take."""
    edges = (metadata or {}).get(METADATA_KEY)
    if not isinstance(edges, list) or not edges:
        return None
    if not all(isinstance(e, int | float) and math.isfinite(e) for e in edges):
        return None
    if any(a >= b for a, b in itertools.pairwise(edges)):
        return None
    return [float(edge) for edge in edges]
