"""Issue 11, classes 2, 3 and 7: scenario values, validate agreeing with run, YAML keys.

Each bad scenario exits 2 from ``validate`` with one line naming the field; ``run`` gives
the same line and writes nothing. The property test draws scenarios inside and outside the
schema and checks that ``validate`` and a one-year ``run`` agree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from _support import DEFAULT_CITY, ROOT
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from sim.cli import main as cli_main

HEAD = f"name: t\ncity: {DEFAULT_CITY}\nyears: 2\nreplications: 1\n"
BALMACEDA = [15765, 15766, 15767, 15768, 15769, 15770]  # all six: zone 76 is cut off


def _write(folder: Path, text: str, name: str = "t.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = cli_main(argv)
    return status, capsys.readouterr().err.strip()


# ---------------------------------------------------------------- class 2: values

# id -> (YAML lines after the header, fragments the message must contain)
VALUES: dict[str, tuple[str, tuple[str, ...]]] = {
    "birth_index NaN": ("parameters: {birth_index: {2025: .nan}}", ("birth_index.2025", "finite")),
    "birth_index inf": ("parameters: {birth_index: {2025: .inf}}", ("birth_index.2025",)),
    "birth_index negative": ("parameters: {birth_index: {2025: -1}}", ("birth_index.2025",)),
    "birth_index year 99999": ("parameters: {birth_index: {99999: 1.0}}", ("99999", "2100")),
    "negative fertility multiplier": (
        "parameters: {fertility_multiplier: -0.5}",
        ("fertility_multiplier",),
    ),
    "negative mortality multiplier": (
        "parameters: {mortality_multiplier: -1}",
        ("mortality_multiplier",),
    ),
    "choice_quality_weight inf": (
        "parameters: {choice_quality_weight: .inf}",
        ("choice_quality_weight",),
    ),
    "choice_distance_km_weight -inf": (
        "parameters: {choice_distance_km_weight: -.inf}",
        ("choice_distance_km_weight",),
    ),
    "toll_factor inf": ("parameters: {assignment: {toll_factor: .inf}}", ("toll_factor",)),
    "tfr NaN": ("parameters: {tfr: .nan}", ("tfr",)),
    "car_share true": ("parameters: {car_share: true}", ("car_share", "boolean")),
    "toll inf": (
        "policies: [{type: congestion_charge, toll: .inf, links: [1], year: 2025}]",
        ("policies.0.toll",),
    ),
    "speed NaN": (
        "policies: [{type: speed_change, links: [1], speed_kmh: .nan, year: 2025}]",
        ("policies.0.speed_kmh",),
    ),
    "years true": ("years: true", ("years", "boolean")),
    "seed true": ("seed: true", ("seed", "boolean")),
    "start_year 1990 on a 2024 city": ("start_year: 1990", ("start_year", "2024")),
    "start_year 2100": ("start_year: 2100", ("start_year", "2024")),
    "start_year 2101": ("start_year: 2101", ("start_year", "2100")),
}


@pytest.mark.parametrize("case", list(VALUES))
def test_bad_values_exit_2_one_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body, fragments = VALUES[case]
    head = HEAD.replace("years: 2\n", "") if body.startswith("years:") else HEAD
    path = _write(tmp_path, head + body + "\n")
    status, err = _run_cli(["validate", str(path)], capsys)
    assert status == 2
    assert err.count("\n") == 0 and len(err) < 400, err
    assert str(path) in err
    for fragment in fragments:
        assert fragment in err, err


def test_good_values_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = (
        "parameters: {birth_index: {2016: 1.0, 2030: 0.6}, choice_quality_weight: 2.5,"
        " assignment: {toll_factor: 0.02}}\n"
        "policies: [{type: congestion_charge, toll: 1500, links: [1], year: 2025}]\n"
    )
    status, err = _run_cli(["validate", str(_write(tmp_path, HEAD + body))], capsys)
    assert status == 0, err


# ---------------------------------------------------------------- class 3: validate <=> run


def test_shipped_road_closure_validates(capsys: pytest.CaptureFixture[str]) -> None:
    path = ROOT / "scenarios" / "road-closure.yaml"
    status, err = _run_cli(["validate", str(path)], capsys)
    assert status == 0, err
    closed = yaml.safe_load(path.read_text(encoding="utf-8"))["policies"][0]["links"]
    assert closed and set(closed) < set(BALMACEDA)


RUN_CASES = {
    "closure cutting zone 76 off": (
        f"policies: [{{type: road_closure, links: {BALMACEDA}, year: 2025}}]",
        ("policies.0", "road_closure", "2025", "zone 76"),
    ),
    "policy year after the run": (
        "policies: [{type: new_school, id: S-late, level: primary, xy: [281000, 6680000],"
        " classes_per_grade: 2, year: 2031}]",
        ("'S-late'", "2031", "2024..2025"),
    ),
    "start_year before the city": ("start_year: 2020", ("start_year", "2024")),
}


@pytest.mark.parametrize("case", list(RUN_CASES))
def test_validate_rejects_first_with_the_run_message(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body, fragments = RUN_CASES[case]
    path = _write(tmp_path, HEAD + body + "\n")
    out = tmp_path / "runs"
    v_status, v_err = _run_cli(["validate", str(path)], capsys)
    r_status, r_err = _run_cli(["run", str(path), "--out", str(out), "-q"], capsys)
    assert v_status == r_status == 2
    assert v_err == r_err and v_err.count("\n") == 0, (v_err, r_err)
    for fragment in fragments:
        assert fragment in v_err, v_err
    assert not out.exists() or not any(out.iterdir())


# ---------------------------------------------------------------- class 7: duplicate keys

DUPLICATES = {
    "top level": (HEAD + "years: 3\n", "'years'", (3, 5)),
    "nested": (HEAD + "parameters:\n  car_share: 0.4\n  car_share: 0.5\n", "'car_share'", (6, 7)),
    "in a policy": (
        HEAD
        + "policies:\n  - type: road_closure\n    links: [1]\n    links: [2]\n    year: 2025\n",
        "'links'",
        (7, 8),
    ),
}


@pytest.mark.parametrize("case", list(DUPLICATES))
def test_duplicate_keys_name_key_and_both_lines(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, key, (first, second) = DUPLICATES[case]
    status, err = _run_cli(["validate", str(_write(tmp_path, text))], capsys)
    assert status == 2 and err.count("\n") == 0, err
    assert f"duplicate key {key}" in err and f"lines {first} and {second}" in err, err


def test_merge_keys_may_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = HEAD + "parameters:\n  <<: {car_share: 0.4, escort_share: 0.3}\n  car_share: 0.5\n"
    status, err = _run_cli(["validate", str(_write(tmp_path, text))], capsys)
    assert status == 0, err


# ---------------------------------------------------------------- property: validate <=> run


#: stock KPIs a one-year run must report as finite numbers (flows such as births are
#: not simulated in the base year)
STOCKS = ["population", "pupils_primary", "pupils_junior", "vkt", "vht", "delay_vh"]


def _finite_kpis(out: Path) -> bool:
    (run,) = [d for d in out.iterdir() if d.is_dir()]
    kpis = pd.read_parquet(run / "kpis.parquet")
    return bool(np.isfinite(kpis[STOCKS].to_numpy(dtype=float)).all())


NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1),
    st.booleans(),
)
SCENARIOS = st.fixed_dictionaries(
    {
        "start_year": st.sampled_from([2024, 2024, 1990, 2100]),
        "years": st.sampled_from([1, 1, 1, True, 0]),
        "parameters": st.fixed_dictionaries(
            {},
            optional={
                "car_share": NUMBERS,
                "choice_quality_weight": NUMBERS,
                "birth_index": st.dictionaries(
                    st.sampled_from([2024, 2025, 99_999]), NUMBERS, max_size=2
                ),
            },
        ),
    }
)


@pytest.mark.slow
@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each run takes seconds
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(draw=SCENARIOS)
@example(draw={"start_year": 2024, "years": 1, "parameters": {"car_share": 0.3}})  # runs
@example(draw={"start_year": 2024, "years": 1, "parameters": {"car_share": float("nan")}})
def test_validate_and_a_one_year_run_agree(
    draw: dict, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    data = {"name": "prop", "city": str(DEFAULT_CITY), "replications": 1, **draw}
    path = _write(folder, yaml.safe_dump(data))  # writes .nan and .inf as YAML floats
    out = folder / "runs"
    v_status, v_err = _run_cli(["validate", str(path)], capsys)
    r_status, r_err = _run_cli(["run", str(path), "--out", str(out), "-q"], capsys)
    assert v_status in (0, 2) and r_status == v_status, (v_err, r_err)
    if v_status == 0:
        assert _finite_kpis(out)
    else:
        assert r_err == v_err and v_err.count("\n") < 6  # one line per problem, at most 5
        assert not out.exists() or not any(out.iterdir())


def test_duplicate_keys_in_a_sweep(tmp_path: Path) -> None:
    from sim.batch.sweep import load_sweep
    from sim.errors import ScenarioError

    path = _write(tmp_path, "name: s\nbase: x.yaml\nseed: 1\nseed: 2\n", "sweep.yaml")
    with pytest.raises(ScenarioError, match=r"duplicate key 'seed' at lines 3 and 4"):
        load_sweep(path)
