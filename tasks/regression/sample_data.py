NEIGHBORHOOD_PRICE_FACTOR = {
    "old_town": 1.35,
    "riverside": 1.25,
    "university": 1.05,
    "industrial": 0.75,
    "suburbs": 0.95,
}
CONDITION_PRICE_FACTOR = {"poor": 0.75, "fair": 0.9, "good": 1.0, "excellent": 1.15}


def generate(n_rows: int, seed: int) -> pd.DataFrame:
    """Houses sold in one city and their sale prices."""
    rng = np.random.default_rng(seed)
    neighborhood = rng.choice(list(NEIGHBORHOOD_PRICE_FACTOR), n_rows)
    property_type = rng.choice(
        ["house", "townhouse", "apartment"], n_rows, p=[0.45, 0.2, 0.35]
    )
    condition = rng.choice(
        list(CONDITION_PRICE_FACTOR), n_rows, p=[0.1, 0.25, 0.45, 0.2]
    )
    area = np.clip(
        rng.normal(120, 40, n_rows) * np.where(property_type == "apartment", 0.7, 1),
        15,
        600,
    )
    bedrooms = np.clip(np.round(area / 35 + rng.normal(0, 0.7, n_rows)), 0, 12)
    bathrooms = np.clip(np.round(bedrooms / 2 + rng.normal(0, 0.5, n_rows)), 1, 8)
    year_built = rng.integers(1900, 2026, n_rows).astype(float)
    distance = np.clip(rng.gamma(2.0, 4.0, n_rows), 0.2, 100).round(1)
    lot_size = np.where(
        property_type == "apartment",
        np.nan,
        np.clip(area * rng.uniform(1.5, 6, n_rows), 50, 20_000),
    ).round(0)
    has_garage = rng.random(n_rows) < np.where(property_type == "apartment", 0.2, 0.65)

    price = (
        2_600
        * area
        * pd.Series(neighborhood).map(NEIGHBORHOOD_PRICE_FACTOR).to_numpy()
        * pd.Series(condition).map(CONDITION_PRICE_FACTOR).to_numpy()
        * (1 - 0.012 * np.minimum(distance, 40))
        * (1 + 0.0015 * (year_built - 1960))
        + 12_000 * bathrooms
        + 18_000 * has_garage
        + 8 * np.nan_to_num(lot_size)
    ) * rng.lognormal(0, 0.1, n_rows)

    return pd.DataFrame(
        {
            "living_area_sqm": area.round(1),
            "lot_size_sqm": lot_size,
            "bedrooms": bedrooms,
            "bathrooms": bathrooms,
            "year_built": _with_missing(year_built, rng, MISSING_RATE),
            "distance_to_center_km": distance,
            "neighborhood": neighborhood,
            "property_type": property_type,
            "condition": _with_missing(condition, rng, MISSING_RATE),
            "has_garage": has_garage,
            "price": price.round(-2),
        }
    )
