# Risk score cut-offs that split the sample population roughly 50/30/20.
MEDIUM_RISK_FROM = 0.35
HIGH_RISK_FROM = 1.35


def generate(n_rows: int, seed: int) -> pd.DataFrame:
    """Loan applications and the risk grade the credit team gave them."""
    rng = np.random.default_rng(seed)
    income = np.clip(rng.lognormal(np.log(55_000), 0.5, n_rows), 8_000, 1_000_000)
    loan = np.clip(income * rng.uniform(0.05, 0.7, n_rows), 500, 250_000).round(-2)
    debt_to_income = np.clip(rng.beta(2, 5, n_rows) * 70, 0, 100).round(1)
    history = np.clip(rng.gamma(3, 3.5, n_rows), 0, 60).round(1)
    open_accounts = np.clip(rng.poisson(6, n_rows), 0, 50)
    delinquencies = np.clip(rng.poisson(0.5, n_rows), 0, 30)
    home = rng.choice(["rent", "mortgage", "own"], n_rows, p=[0.45, 0.40, 0.15])
    purpose = rng.choice(
        [
            "debt_consolidation",
            "home_improvement",
            "car",
            "education",
            "business",
            "other",
        ],
        n_rows,
        p=[0.35, 0.15, 0.15, 0.10, 0.10, 0.15],
    )
    employment = rng.choice(
        ["salaried", "self_employed", "unemployed", "retired"],
        n_rows,
        p=[0.65, 0.18, 0.07, 0.10],
    )
    cosigner = rng.random(n_rows) < 0.12

    score = (
        0.035 * debt_to_income
        + 0.55 * delinquencies
        - 0.06 * history
        - 0.8 * np.log(income / 55_000)
        + 1.2 * (loan / income)
        + 0.9 * (employment == "unemployed")
        + 0.4 * (purpose == "business")
        - 0.5 * cosigner
        - 0.3 * (home == "own")
        + rng.normal(0, 0.45, n_rows)
    )
    grade = np.select(
        [score >= HIGH_RISK_FROM, score >= MEDIUM_RISK_FROM], ["high", "medium"], "low"
    )

    return pd.DataFrame(
        {
            "annual_income": income.round(0),
            "loan_amount": loan,
            "debt_to_income": _with_missing(debt_to_income, rng, MISSING_RATE),
            "credit_history_years": _with_missing(history, rng, MISSING_RATE),
            "open_accounts": open_accounts.astype(float),
            "delinquencies": delinquencies.astype(float),
            "home_ownership": home,
            "loan_purpose": purpose,
            "employment_type": _with_missing(employment, rng, MISSING_RATE),
            "has_cosigner": cosigner,
            "risk_grade": grade,
        }
    )
