"""Synthesis pieces shared by the default-city build and ``import-city``.

Integer rounding that keeps totals, households by size from a mean size, and the
demography rates (fertility, mortality, migration profile) from the UN World
Population Prospects 2024 tables. ``geodata/build_default_city.py`` and
:mod:`sim.cityimport.build` both use them, so the two cities are made the same way.

Rates come from :data:`RATES_CSV` (shipped with the package); ``python -m
sim.cityimport.synth [DEMOGRAPHY_DIR]`` rewrites it from the WPP files in
``../shared/benchmarks/demography``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

MAX_AGE = 100
RATES_CSV = Path(__file__).with_name("wpp2024_rates.csv")
"""Single-age rates for China and Chile: country, age, sex, asfr, qx, migration_profile."""
ROGERS_CASTRO = {
    "a1": 0.02,
    "alpha1": 0.1,
    "a2": 0.06,
    "alpha2": 0.1,
    "mu2": 20.0,
    "lambda2": 0.4,
    "c": 0.003,
}
"""Rogers-Castro model migration schedule (childhood and labour-force peaks, a floor)."""
SEXES = ("male", "female")


def round_preserving(values: np.ndarray) -> np.ndarray:
    """Integers that sum to round(sum(values)), by largest remainder (ties: first)."""
    values = np.asarray(values, dtype=float)
    floor = np.floor(values).astype(np.int64)
    short = round(values.sum()) - floor.sum()
    order = np.argsort(-(values - floor), kind="stable")
    floor[order[:short]] += 1
    return floor


def size_shares(lam: float) -> np.ndarray:
    """Shares of household sizes 1..6+ from 1 + Poisson(lam), the tail lumped in 6+."""
    k = np.arange(5)
    pmf = np.exp(-lam) * lam**k / np.cumprod(np.r_[1, k[1:]])
    return np.r_[pmf, 1 - pmf.sum()]


def households_by_size(
    zone_population: pd.Series, child_share: pd.Series, mean_size: float
) -> pd.DataFrame:
    """Households by size 1..6+ per zone (zone_id, size, households).

    Size = 1 + Poisson(lambda_z) truncated at 6+; lambda_z gives the zone a mean size
    of ``mean_size`` scaled by its child share (ages 0-14) relative to the city's
    (more children, bigger households), within 2.2..4.2 x mean_size / 3.1;
    households = population / mean size, rounded keeping the total.
    """
    pop = zone_population.astype(float)
    city_share = float((child_share * pop).sum() / max(pop.sum(), 1.0))
    sizes = mean_size * (1 + 1.5 * (child_share - city_share))
    sizes = sizes.clip(2.2 * mean_size / 3.1, 4.2 * mean_size / 3.1).clip(lower=1.0)
    rows = []
    for zid, m in sizes.items():
        shares = size_shares(max(m - 1.0, 1e-6))
        total = pop.loc[zid] / (shares * np.arange(1, 7)).sum()
        counts = round_preserving(shares * total)
        rows.append(pd.DataFrame({"zone_id": zid, "size": np.arange(1, 7), "households": counts}))
    return pd.concat(rows, ignore_index=True).astype(np.int64)


def wpp_rates(country: str, demography: Path) -> pd.DataFrame:
    """Single-age rates of ``country`` (``"China"`` or ``"Chile"``) from WPP 2024 files.

    ASFR = PASFR (2020-2025) x TFR (2023) / 5 spread over each 5-year group; qx from
    the single-age life table 2023; the migration profile is the raw Rogers-Castro
    schedule (:func:`scale_migration` sets its population mean to 1).
    """
    ages = np.arange(MAX_AGE + 1)
    pasfr = pd.read_csv(demography / "wpp2024_pasfr_china_chile.csv")
    pasfr = pasfr[(pasfr["country"] == country) & (pasfr["period"] == "2020-2025")]
    tfr = wpp_tfr(country, demography)
    asfr = np.zeros(len(ages))
    for grp, pct in zip(pasfr["age_group"], pasfr["pasfr_percent_of_tfr"], strict=True):
        lo, hi = (int(v) for v in grp.split("-"))
        asfr[lo : hi + 1] = pct / 100 * tfr / 5
    life = pd.read_csv(demography / "wpp2024_lifetable_single_age_2023_chile_china.csv")
    life = life[life["country"] == country]
    a = ROGERS_CASTRO
    x2 = ages - a["mu2"]
    mig = (
        a["a1"] * np.exp(-a["alpha1"] * ages)
        + a["a2"] * np.exp(-a["alpha2"] * x2 - np.exp(-a["lambda2"] * x2))
        + a["c"]
    )
    rows = []
    for sex in SEXES:
        qx = life[life["sex"] == sex].set_index("age")["qx"].reindex(ages)
        rows.append(
            pd.DataFrame(
                {
                    "age": ages,
                    "sex": sex,
                    "asfr": asfr if sex == "female" else 0.0,
                    "qx": qx.to_numpy(),
                    "migration_profile": mig,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def wpp_tfr(country: str, demography: Path) -> float:
    """WPP 2024 total fertility rate of ``country`` in 2023."""
    tfr = pd.read_csv(demography / "wpp2024_tfr_china_chile.csv")
    row = tfr[(tfr["country"] == country) & (tfr["year_or_period"] == "2023")]
    return float(row["tfr"].iloc[0])


def scale_migration(rates: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """Rates with the migration profile scaled to a mean of 1 over ``population``'s ages.

    A base rate r times the profile then gives age rates whose population average is r.
    """
    ages = np.arange(MAX_AGE + 1)
    by_age = population.groupby("age")["persons"].sum().reindex(ages, fill_value=0)
    out = rates.copy()
    profile = out[out["sex"] == SEXES[0]].set_index("age")["migration_profile"].reindex(ages)
    mean = np.average(profile.to_numpy(), weights=by_age.to_numpy() + 1e-12)
    out["migration_profile"] = out["migration_profile"] / mean
    return out


def packaged_rates(country: str) -> pd.DataFrame:
    """The shipped single-age rates of ``country`` (:data:`RATES_CSV`)."""
    table = pd.read_csv(RATES_CSV)
    rates = table[table["country"] == country].drop(columns="country")
    return rates.reset_index(drop=True)


def stationary_profile(rates: pd.DataFrame) -> pd.DataFrame:
    """Persons by age (rows 0..MAX_AGE) and sex (columns) of the stationary population.

    l(x) from the rates' qx, 105 boys per 100 girls at birth; the profile that splits
    age bands and totals into single ages and sexes on import.
    """
    out = {}
    for sex, weight in (("male", 1.05), ("female", 1.0)):
        qx = rates[rates["sex"] == sex].set_index("age")["qx"].reindex(range(MAX_AGE + 1))
        survival = np.r_[1.0, np.cumprod(1 - qx.to_numpy()[:-1])]
        out[sex] = weight * survival
    return pd.DataFrame(out, index=pd.RangeIndex(MAX_AGE + 1, name="age"))


def main(argv: list[str]) -> int:
    """Write :data:`RATES_CSV` from the WPP files in a folder."""
    here = Path(__file__).resolve().parents[2]
    folder = Path(argv[0]) if argv else here.parent / "shared" / "benchmarks" / "demography"
    frames = [wpp_rates(c, folder).assign(country=c) for c in ("China", "Chile")]
    table = pd.concat(frames, ignore_index=True)
    table = table[["country", "age", "sex", "asfr", "qx", "migration_profile"]]
    table.to_csv(RATES_CSV, index=False, float_format="%.8g")
    print(f"wrote {RATES_CSV} ({len(table)} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
