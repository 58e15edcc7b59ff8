"""OD models: gravity balancing, calibration, radiation, CPC/RMSE and the od-fit command."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from sim.cli import main as cli_main
from sim.errors import InputDataError
from sim.mobility import od, od_io

MOBILITY = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "mobility"
NY_ZONES = MOBILITY / "NY_counties_2011.geojson"
NY_FLOWS = MOBILITY / "NY_commuting_flows_2011.csv"


def _line_cost(xs: list[float]) -> np.ndarray:
    x = np.asarray(xs, dtype=float)
    return np.abs(x[:, None] - x[None, :])


# --------------------------------------------------------------------------- gravity


def test_gravity_reproduces_row_and_column_totals() -> None:
    rng = np.random.default_rng(7)
    n = 12
    prod = rng.uniform(10, 500, n)
    attr = rng.uniform(10, 500, n)
    attr *= prod.sum() / attr.sum()
    cost = rng.uniform(1, 20, (n, n))
    for det, beta in (("exp", 0.2), ("power", 2.0)):
        mat = od.gravity(prod, attr, cost, deterrence=det, beta=beta)
        np.testing.assert_allclose(mat.sum(axis=1), prod, rtol=1e-8)
        np.testing.assert_allclose(mat.sum(axis=0), attr, rtol=1e-8)
        assert (mat >= 0).all()


def test_gravity_without_deterrence_is_the_product_of_trip_ends() -> None:
    # beta = 0: f = 1 everywhere, so T_ij = O_i D_j / total exactly
    prod = np.array([10.0, 30.0, 60.0])
    attr = np.array([50.0, 25.0, 25.0])
    mat = od.gravity(prod, attr, _line_cost([0, 1, 3]) + 1, deterrence="exp", beta=0.0)
    np.testing.assert_allclose(mat, np.outer(prod, attr) / 100.0, rtol=1e-12)


def test_gravity_scales_attractions_and_respects_blocked_pairs() -> None:
    prod = np.array([10.0, 20.0, 30.0])
    attr = np.array([3.0, 2.0, 2.0])  # rescaled to the productions' total, 60
    cost = _line_cost([0, 2, 5]) + 1.0
    np.fill_diagonal(cost, np.inf)
    mat = od.gravity(prod, attr, cost, deterrence="power", beta=1.5)
    assert np.all(np.diag(mat) == 0)
    np.testing.assert_allclose(mat.sum(axis=0), attr * 60 / 7, rtol=1e-8)
    # a 2-zone system with no diagonal has only one solution: everything crosses
    two = od.gravity([4.0, 6.0], [6.0, 4.0], [[np.inf, 1.0], [1.0, np.inf]], beta=0.1)
    np.testing.assert_allclose(two, [[0, 4], [6, 0]], rtol=1e-9)


def test_power_deterrence_rejects_zero_cost() -> None:
    with pytest.raises(ValueError, match="positive costs"):
        od.gravity([1.0, 1.0], [1.0, 1.0], [[0.0, 1.0], [1.0, 0.0]], deterrence="power", beta=2)


def test_calibrate_to_target_mean_cost() -> None:
    rng = np.random.default_rng(3)
    n = 15
    pts = rng.uniform(0, 10, (n, 2))
    cost = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1)) + 0.5
    prod = rng.uniform(100, 1000, n)
    attr = rng.uniform(100, 1000, n)
    mat, params = od.calibrate_gravity(prod, attr, cost, deterrence="exp", target_mean_cost=3.0)
    assert params["beta"] > 0
    assert od.mean_cost(mat, cost) == pytest.approx(3.0, rel=1e-6)
    np.testing.assert_allclose(mat.sum(axis=1), prod, rtol=1e-6)
    with pytest.raises(ValueError, match="outside what the gravity model can reach"):
        od.calibrate_gravity(prod, attr, cost, deterrence="exp", target_mean_cost=1000.0)


@pytest.mark.parametrize(("deterrence", "beta"), [("exp", 0.35), ("power", 1.8)])
def test_calibrate_recovers_the_beta_that_made_the_flows(deterrence: str, beta: float) -> None:
    rng = np.random.default_rng(11)
    n = 20
    pts = rng.uniform(0, 20, (n, 2))
    cost = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(cost, np.inf)
    prod = rng.uniform(100, 1000, n)
    attr = rng.uniform(100, 1000, n)
    truth = od.gravity(prod, attr, cost, deterrence=deterrence, beta=beta)
    for objective in ("cpc", "mean_cost"):
        mat, params = od.calibrate_gravity(
            truth.sum(1), truth.sum(0), cost, deterrence=deterrence, observed=truth,
            objective=objective,
        )  # fmt: skip
        assert params["beta"] == pytest.approx(beta, rel=2e-3)
        assert params["cpc"] > 0.999
        np.testing.assert_allclose(mat, truth, rtol=1e-2, atol=1e-6)


# --------------------------------------------------------------------------- radiation


def test_radiation_three_zones_by_hand() -> None:
    # zones on a line at x = 0, 1, 3 with populations 10, 20, 30, outflows 100, 50, 60.
    # origin 0: p01 = 20/(10*30), p02 = 30/((10+20)(10+30+20))  -> 80 / 20
    # origin 1: p10 = 10/(20*30), p12 = 30/((20+10)(20+30+10))  -> 25 / 25
    # origin 2: p20 = 10/((30+20)(30+10+20)), p21 = 20/(30*50)  -> 12 / 48
    pop = np.array([10.0, 20.0, 30.0])
    mat = od.radiation(pop, pop, _line_cost([0, 1, 3]), np.array([100.0, 50.0, 60.0]))
    expected = np.array([[0, 80, 20], [25, 0, 25], [12, 48, 0]], dtype=float)
    np.testing.assert_allclose(mat, expected, rtol=1e-12)


def test_radiation_ties_are_not_intervening() -> None:
    # zone 0 in the middle, zones 1 and 2 both 1 away: neither intervenes for the other
    pop = np.array([5.0, 10.0, 30.0])
    dist = np.array([[0, 1, 1], [1, 0, 2], [1, 2, 0]], dtype=float)
    mat = od.radiation(pop, pop, dist, np.array([40.0, 0.0, 0.0]))
    p1, p2 = 10 / (5 * 15), 30 / (5 * 35)
    np.testing.assert_allclose(mat[0], [0, 40 * p1 / (p1 + p2), 40 * p2 / (p1 + p2)])


# --------------------------------------------------------------------------- scores


def test_cpc_and_rmse_ignore_the_diagonal() -> None:
    obs = np.array([[100.0, 10.0], [30.0, 100.0]])
    fit = np.array([[0.0, 20.0], [30.0, 0.0]])
    # off-diagonal: min sums to 10 + 30; totals 40 + 50
    assert od.cpc(obs, fit) == pytest.approx(2 * 40 / 90)
    assert od.rmse(obs, fit) == pytest.approx(np.sqrt((10**2 + 0**2) / 2))
    assert od.cpc(obs, obs) == 1.0
    assert od.cpc(np.array([[0, 1], [0, 0]]), np.array([[0, 0], [1, 0]])) == 0.0


def test_projected_centroid_distances_are_euclidean_km() -> None:
    zones = gpd.GeoDataFrame(
        {"zone_id": [1, 2]}, geometry=[box(0, 0, 2000, 2000), box(3000, 4000, 5000, 6000)],
        crs="EPSG:32719",
    )  # fmt: skip
    d = od_io.centroid_distances_km(zones)
    assert d[0, 1] == pytest.approx(5.0)  # centroids (1000, 1000) and (4000, 5000)


# --------------------------------------------------------------------------- NY benchmark


@pytest.fixture(scope="module")
def ny() -> tuple[gpd.GeoDataFrame, np.ndarray]:
    if not NY_ZONES.exists():
        pytest.skip(f"benchmark data missing: {MOBILITY}")
    zones = od_io.read_zones(NY_ZONES)
    return zones, od_io.read_flows(NY_FLOWS, list(zones.index))


def test_ny_flows_read_completely(ny: tuple[gpd.GeoDataFrame, np.ndarray]) -> None:
    zones, observed = ny
    assert len(zones) == 62
    assert observed.sum() == 8_831_941  # SOURCE.md totals
    assert observed.sum() - np.trace(observed) == 2_978_046


def test_ny_gravity_power_reaches_the_baseline_cpc(ny: tuple) -> None:
    # SOURCE.md: doubly-constrained gravity with gamma = 3.15 gives CPC 0.776
    fit = od_io.fit_od(*ny, model="gravity", deterrence="power")
    assert fit.cpc >= 0.77
    assert 2.5 < fit.params["beta"] < 4.0


def test_ny_gravity_exp_beats_the_power_law(ny: tuple) -> None:
    fit = od_io.fit_od(*ny, model="gravity", deterrence="exp")
    assert fit.cpc >= 0.80
    assert 0.02 < fit.params["beta"] < 0.2  # per km


def test_ny_radiation_matches_the_baseline_cpc(ny: tuple) -> None:
    # SOURCE.md / compute_cpc_baselines.py: radiation (outflow-normalised) CPC 0.529-0.530
    fit = od_io.fit_od(*ny, model="radiation")
    assert fit.cpc == pytest.approx(0.53, abs=0.005)
    np.testing.assert_allclose(fit.fitted.sum(1), fit.observed.sum(1) - np.diag(fit.observed))


# --------------------------------------------------------------------------- od-fit command


@pytest.fixture()
def small_files(tmp_path: Path) -> tuple[Path, Path]:
    zones = gpd.GeoDataFrame(
        {"zone_id": [1, 2, 3], "population": [100, 200, 300]},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000), box(4000, 0, 5000, 1000)],
        crs="EPSG:32719",
    )
    zpath = tmp_path / "zones.gpkg"
    zones.to_file(zpath, driver="GPKG")
    flows = pd.DataFrame(
        {"origin": [1, 1, 2, 2, 3, 3, 1], "destination": [2, 3, 1, 3, 1, 2, 1],
         "flow": [50, 10, 40, 20, 5, 30, 500]}
    )  # fmt: skip
    fpath = tmp_path / "flows.csv"
    flows.to_csv(fpath, index=False)
    return zpath, fpath


def test_od_fit_json_and_out(small_files: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    zpath, fpath = small_files
    out = tmp_path / "new-folder" / "fitted.csv"  # created on the way
    argv = ["od-fit", "--zones", str(zpath), "--flows", str(fpath), "--model", "gravity"]
    assert cli_main([*argv, "--deterrence", "exp", "--json", "--out", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"model", "cpc", "rmse", "params"}
    assert result["model"] == "gravity" and 0 < result["cpc"] <= 1
    assert result["params"]["deterrence"] == "exp"
    fitted = pd.read_csv(out)
    assert list(fitted.columns) == ["origin", "destination", "flow"]
    assert len(fitted) == 7  # six inter-zone pairs and the observed 1 -> 1 (fitted 0)
    assert fitted["flow"].sum() == pytest.approx(155.0)
    assert fitted.query("origin == 1 and destination == 1")["flow"].item() == 0.0


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.assign(origin=f["origin"].replace(3, 9)), "'origin' line 6 names zone '9'"),
        (lambda f: f.drop(columns="flow"), "column 'flow' is missing"),
        (lambda f: f.assign(flow=f["flow"].replace(20, -1)), "column 'flow' line 5 has value -1"),
    ],
)  # fmt: skip
def test_od_fit_bad_flows_are_one_line_errors(
    small_files: tuple[Path, Path], edit, message: str, capsys
) -> None:
    zpath, fpath = small_files
    edit(pd.read_csv(fpath)).to_csv(fpath, index=False)
    code = cli_main(
        ["od-fit", "--zones", str(zpath), "--flows", str(fpath), "--model", "radiation"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and str(fpath) in err
    assert len(err.strip().splitlines()) == 1


def test_zones_without_a_known_id_column(tmp_path: Path) -> None:
    path = tmp_path / "z.geojson"
    gpd.GeoDataFrame({"code": ["a"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:4326").to_file(path)
    # The library names the field; the CLI turns it into its flag (--id-column).
    with pytest.raises(InputDataError, match="none of the id columns") as caught:
        od_io.read_zones(path)
    assert caught.value.field == "id_column" and "--" not in str(caught.value)
    assert list(od_io.read_zones(path, "code").index) == ["a"]
