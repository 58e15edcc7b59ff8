"""``main.py simulate`` on the real Hangzhou files of ../shared/benchmarks/cityflow.

The SUMO and the CityFlow files of the 4×4 Gudang grid are the same network with the
same 2,983 vehicles, so both readers must load every vehicle and agree on the network;
the simulation must deliver them all under every control.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from _support import ROOT

from sim import cli
from sim.cli.simulate import read_inputs

BENCH = ROOT.parent / "shared" / "benchmarks" / "cityflow"
SUMO = BENCH / "libsignal" / "sumo_4x4_gudang" / "hangzhou_4x4_gudang_18041610_1h.sumocfg"
ONE = BENCH / "libsignal" / "cityflow_1x1" / "hangzhou_1x1_kn-hz_18041608_1h"
KEYS = {"vehicles", "completed", "mean_travel_time_s", "mean_delay_s", "vehicle_seconds",
        "wall_s", "vehicle_seconds_per_s", "dt_s"}  # fmt: skip

pytestmark = pytest.mark.skipif(not BENCH.exists(), reason="../shared/benchmarks absent")


def _run(args: list[str], capsys) -> dict:
    assert cli.main(["simulate", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_sumo_and_cityflow_files_are_the_same_grid() -> None:
    net_s, veh_s = read_inputs([SUMO])
    net_c, veh_c = read_inputs([BENCH / "roadnet_4_4.json", BENCH / "anon_4_4_hangzhou_real.json"])
    assert len(veh_s.depart) == len(veh_c.depart) == 2983  # SOURCE.md
    assert len(net_s.signals) == len(net_c.signals) == 16
    assert sorted(net_s.link_ids) == sorted(net_c.link_ids)  # 80 roads by the same names
    assert len(net_s.link_ids) == 80


@pytest.mark.slow
def test_simulate_the_grid_writes_its_tables(tmp_path: Path, capsys) -> None:
    out = _run([str(SUMO), "--out", str(tmp_path / "res")], capsys)
    assert set(out) >= KEYS
    assert out["vehicles"] == out["completed"] == 2983
    assert out["dt_s"] == 1.0
    veh = pd.read_csv(tmp_path / "res" / "vehicles.csv")
    assert list(veh.columns) == ["id", "origin", "destination", "depart_s", "arrive_s",
                                 "travel_time_s"]  # fmt: skip
    assert veh["travel_time_s"].mean() == pytest.approx(out["mean_travel_time_s"])
    links = pd.read_csv(tmp_path / "res" / "links.csv")
    assert len(links) == 80
    # every vehicle enters as many links as its route has
    assert links["inflow"].sum() == links["outflow"].sum()
    by_bin = pd.read_csv(tmp_path / "res" / "links_t.csv")
    assert list(by_bin.columns) == ["link", "bin_start_s", "inflow", "outflow",
                                    "mean_speed_kmh", "queue", "occupancy"]  # fmt: skip
    assert by_bin["inflow"].sum() == links["inflow"].sum()


#: SUMO 1.28 micro on the same files (bench/dynamic_vs_sumo.py): mean of tripinfo duration
#: plus departDelay over the 2,983 vehicles.
SUMO_MICRO_MEAN_TRAVEL_TIME_S = 647.6


@pytest.mark.slow
def test_the_grid_agrees_with_sumo_and_max_pressure_beats_fixed_time(capsys) -> None:
    fixed = _run([str(SUMO)], capsys)["mean_travel_time_s"]
    assert fixed == pytest.approx(SUMO_MICRO_MEAN_TRAVEL_TIME_S, rel=0.15)
    # the literature (PressLight, CoLight, LibSignal) finds max-pressure well below fixed
    # time on this grid
    pressure = _run([str(SUMO), "--control", "max-pressure"], capsys)["mean_travel_time_s"]
    assert pressure < 0.8 * fixed


@pytest.mark.parametrize("control", ["fixed", "webster", "actuated", "max-pressure"])
def test_every_control_delivers_a_real_intersection_hour(control: str, capsys) -> None:
    out = _run([str(ONE / "roadnet.json"), str(ONE / "flow.json"), "--control", control], capsys)
    assert out["vehicles"] == out["completed"] == 743  # SOURCE.md: kn-hz 08:00
    assert out["mean_delay_s"] >= 0


def test_departures_can_be_spread(capsys) -> None:
    args = [str(ONE / "roadnet.json"), str(ONE / "flow.json"), "--departures", "uniform:0:600"]
    out = _run(args, capsys)
    assert out["completed"] == 743


def test_bad_inputs_exit_2_with_one_line(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "x.txt"
    bad.write_text("nothing")
    assert cli.main(["simulate", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "allowed" in err
    (tmp_path / "roadnet.json").write_text("{broken")
    (tmp_path / "flow.json").write_text("[]")
    assert cli.main(["simulate", str(tmp_path / "roadnet.json"), str(tmp_path / "flow.json")]) == 2
    assert "roadnet.json" in capsys.readouterr().err
    (tmp_path / "x.net.xml").write_text("<net><edge id='a'")
    (tmp_path / "x.rou.xml").write_text("<routes/>")
    assert cli.main(["simulate", str(tmp_path / "x.net.xml"), str(tmp_path / "x.rou.xml")]) == 2
    assert "x.net.xml" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # argparse: Δt above 2 s is refused
        cli.main(["simulate", str(SUMO), "--dt", "5"])
    assert exc.value.code == 2


NET = """<NUMBER OF ZONES> 2
<NUMBER OF NODES> 3
<FIRST THRU NODE> 3
<NUMBER OF LINKS> 4
<END OF METADATA>
~ init term capacity length fftime b power speed toll type ;
1 3 1800 1 1.0 0.15 4 0 0 1 ;
3 2 900 1 1.0 0.15 4 0 0 1 ;
2 3 1800 1 1.0 0.15 4 0 0 1 ;
3 1 1800 1 1.0 0.15 4 0 0 1 ;
"""
TRIPS = """<NUMBER OF ZONES> 2
<TOTAL OD FLOW> 1800.0
<END OF METADATA>
Origin 1
 2 : 1800.0;
Origin 2
 1 : 0.0;
"""


def test_a_tntp_trip_table_through_a_bottleneck(tmp_path: Path, capsys) -> None:
    (tmp_path / "t_net.tntp").write_text(NET)
    (tmp_path / "t_trips.tntp").write_text(TRIPS)
    # 1,800 vehicles over 1,800 s (3,600 veh/h) into a 900 veh/h link: deterministic queue
    args = [str(tmp_path / "t_net.tntp"), str(tmp_path / "t_trips.tntp"),
            "--departures", "uniform:0:1800", "--out", str(tmp_path / "o")]  # fmt: skip
    out = _run(args, capsys)
    assert out["vehicles"] == out["completed"] == 1800
    # vehicle i waits i (1/mu - 1/lam) = i (4 - 1) s: mean 1799/2 x 3 s
    assert out["mean_delay_s"] == pytest.approx(1799 / 2 * 3.0, rel=0.02)
    veh = pd.read_csv(tmp_path / "o" / "vehicles.csv")
    assert set(veh["origin"]) == {"1-3"} and set(veh["destination"]) == {"3-2"}
    assert not list((tmp_path / "o").glob(".tmp-*"))  # written in a temporary folder, moved


def test_vehicles_still_queued_when_the_simulation_ends_are_reported(
    tmp_path: Path, capsys
) -> None:
    (tmp_path / "t_net.tntp").write_text(NET.replace("3 2 900 ", "3 2 90 "))
    (tmp_path / "t_trips.tntp").write_text(TRIPS)
    args = [str(tmp_path / "t_net.tntp"), str(tmp_path / "t_trips.tntp"),
            "--departures", "uniform:0:1800"]  # fmt: skip
    out = _run(args, capsys)
    # 1,800 vehicles into a 90 veh/h link need 20 h; it discharges at capacity from its
    # first arrival (after 1 min on the first link) until the end: last departure + 4 h
    assert out["simulated_s"] == 1800 + 4 * 3600
    assert out["completed"] == pytest.approx(90 * (out["simulated_s"] - 60) / 3600, rel=0.02)
    left = 1800 - int(out["completed"])
    assert out["warnings"] == [
        f"{left:,} of 1,800 vehicles had not arrived when the simulation ended at 16200 s (the "
        "last departure + 4 h); mean_travel_time_s and mean_delay_s are of those that arrived"
    ]


def test_an_out_folder_that_cannot_take_the_tables_is_refused_before_simulating(
    tmp_path: Path, capsys
) -> None:
    (tmp_path / "t_net.tntp").write_text(NET)
    (tmp_path / "t_trips.tntp").write_text(TRIPS)
    out = tmp_path / "o"
    (out / "links.csv").mkdir(parents=True)
    (out / "vehicles.csv").write_text("old")
    args = ["simulate", str(tmp_path / "t_net.tntp"), str(tmp_path / "t_trips.tntp"),
            "--out", str(out)]  # fmt: skip
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "links.csv is a folder" in err
    assert (out / "vehicles.csv").read_text() == "old"
    assert sorted(p.name for p in out.iterdir()) == ["links.csv", "vehicles.csv"]
