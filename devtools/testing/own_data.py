"""Owner data sets for the own-data tests: tables that are NOT the sample
generator's (other names and types, an ID column, timestamps, missing values,
rows without a target), built here or shipped by a PyPI package."""

from pathlib import Path

import numpy as np
import pandas as pd

PENGUINS = "penguins-raw.csv"  # palmerpenguins' raw table: 344 rows, 17 columns


def penguins() -> pd.DataFrame:
    """The Palmer penguins, as the `palmerpenguins` package ships them (no
    download): IDs, a date, constant and free-text columns, Yes/No, missing
    values, and rows without a sex."""
    import palmerpenguins

    return pd.read_csv(Path(palmerpenguins.__file__).parent / "data" / PENGUINS)


def machines(task: str, rows: int = 1500, seed: int = 7) -> pd.DataFrame:
    """Sensor readings of machines, 24 columns: an ID, two timestamps, a
    constant, free text, yes/no, integer codes, 12 numeric and 4 categorical
    features with gaps, and a target (failed / failure mode / hours to
    failure) of which a few rows are missing."""
    rng = np.random.default_rng(seed)
    numeric = {f"sensor_{i:02d}": rng.normal(50 + i, 5 + i, rows) for i in range(12)}
    site = rng.choice(["north", "south", "east", "west"], rows)
    vendor = rng.choice(["acme", "globex", "initech"], rows, p=[0.5, 0.3, 0.2])
    shift = rng.choice(["day", "night"], rows)
    grade = rng.choice(["A", "B", "C", "D", "E"], rows)
    codes = rng.integers(1, 6, rows)
    serviced = rng.choice(["yes", "no"], rows)
    risk = (
        0.08 * (numeric["sensor_00"] - 50)
        - 0.05 * (numeric["sensor_03"] - 53)
        + 0.9 * (vendor == "initech")
        + 0.6 * (site == "north")
        - 0.7 * (serviced == "yes")
        + rng.normal(0, 0.5, rows)
    )
    frame = pd.DataFrame(
        {
            "machine_id": [f"M-{i:06d}" for i in rng.permutation(rows)],
            "installed_on": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 1500, rows), unit="D"),
            "reading_at": (
                pd.Timestamp("2026-06-01") + pd.to_timedelta(np.arange(rows), unit="min")
            ).strftime("%Y-%m-%d %H:%M:%S"),
            "plant": "plant-7",
            "operator_note": [f"note {i} {rng.integers(1_000_000)}" for i in range(rows)],
            "serviced": serviced,
            "error_code": codes,
            **numeric,
            "site": site,
            "vendor": vendor,
            "shift": shift,
            "grade": grade,
        }
    )
    frame["target"] = _target(task, risk, rng)
    for name in ("sensor_01", "sensor_05", "vendor", "grade"):
        frame.loc[rng.random(rows) < 0.05, name] = None
    frame.loc[rng.choice(rows, 6, replace=False), "target"] = None
    return frame.rename(columns={"target": TARGETS[task]})


TARGETS = {
    "binary_classification": "failed",
    "multiclass_classification": "failure_mode",
    "regression": "hours_to_failure",
}


def _target(task: str, risk: np.ndarray, rng: np.random.Generator) -> pd.Series:
    if task == "binary_classification":
        return pd.Series((risk > np.median(risk)).astype(int), dtype=object)
    if task == "multiclass_classification":
        modes = np.select([risk < -0.3, risk < 0.6], ["none", "wear"], "overheat")
        return pd.Series(modes, dtype=object)
    return pd.Series(np.round(400 - 60 * risk + rng.normal(0, 10, len(risk)), 1))
