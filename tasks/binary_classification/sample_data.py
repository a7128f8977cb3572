def generate(n_rows: int, seed: int) -> pd.DataFrame:
    """Customers of a subscription service and whether they churned."""
    rng = np.random.default_rng(seed)
    contract = rng.choice(
        ["month_to_month", "one_year", "two_year"], n_rows, p=[0.55, 0.25, 0.20]
    )
    internet = rng.choice(["dsl", "fiber_optic", "none"], n_rows, p=[0.35, 0.45, 0.20])
    payment = rng.choice(
        ["electronic_check", "mailed_check", "bank_transfer", "credit_card"],
        n_rows,
        p=[0.35, 0.20, 0.22, 0.23],
    )
    tenure = rng.integers(0, 73, n_rows)
    base_charge = np.select(
        [internet == "fiber_optic", internet == "dsl"], [85, 55], 25
    )
    monthly = np.clip(base_charge + rng.normal(0, 12, n_rows), 15, 150).round(2)
    support_calls = np.clip(rng.poisson(1.2 + 1.3 * (internet == "fiber_optic")), 0, 20)
    senior = rng.random(n_rows) < 0.16
    paperless = rng.random(n_rows) < 0.6

    logit = (
        -1.2
        + 1.4 * (contract == "month_to_month")
        - 0.9 * (contract == "two_year")
        - 0.045 * tenure
        + 0.025 * (monthly - 65)
        + 0.38 * support_calls
        + 0.55 * (payment == "electronic_check")
        + 0.35 * senior
        + 0.25 * paperless
    )
    churned = (rng.random(n_rows) < 1 / (1 + np.exp(-logit))).astype(int)

    return pd.DataFrame(
        {
            "tenure_months": tenure.astype(float),
            "monthly_charges": _with_missing(monthly, rng, MISSING_RATE),
            "support_calls": support_calls.astype(float),
            "contract": contract,
            "internet_service": internet,
            "payment_method": _with_missing(payment, rng, MISSING_RATE),
            "senior_citizen": senior,
            "paperless_billing": paperless,
            "churned": churned,
        }
    )
