"""GTFS bus level of service: a hand-made feed whose journeys are timed by hand, and bad feeds."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from sim.errors import InputDataError
from sim.geo import to_xy
from sim.mobility.gtfs import bus_level_of_service, read_feed

CRS = "EPSG:32719"
LAT = -29.9
#: Four stops on a parallel, 0.02 degrees (about 1.9 km) apart.
STOP_LON = {"S1": -71.30, "S2": -71.28, "S3": -71.26, "S4": -71.24}


def _times(first_min: int, every: int, until_min: int, offsets: list[int]) -> list[list[str]]:
    """Trips leaving every ``every`` minutes; ``offsets`` are minutes after the first stop."""
    out = []
    for t in range(first_min, until_min, every):
        out.append([f"{(t + o) // 60:02d}:{(t + o) % 60:02d}:00" for o in offsets])
    return out


def write_feed(folder: Path, **override: str) -> Path:
    """R1 S1-S2-S3 every 10 min (8 + 6 min), R2 S3-S4 every 20 min (12 min), R3 weekends."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n"
        + "".join(f"{s},{s},{LAT},{lon}\n" for s, lon in STOP_LON.items()),
        "routes.txt": "route_id,route_short_name,route_type\nR1,1,3\nR2,2,3\nR3,3,3\n",
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
        "start_date,end_date\nWK,1,1,1,1,1,0,0,20240101,20301231\n"
        "WE,0,0,0,0,0,1,1,20240101,20301231\n",
    }
    trips = ["route_id,service_id,trip_id"]
    stop_times = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    for route, service, stops, first, every, until, offsets in (
        ("R1", "WK", ["S1", "S2", "S3"], 5 * 60, 10, 11 * 60, [0, 8, 14]),
        ("R2", "WK", ["S3", "S4"], 5 * 60, 20, 11 * 60, [0, 12]),
        ("R3", "WE", ["S1", "S4"], 6 * 60, 5, 10 * 60, [0, 1]),
    ):
        for k, clock in enumerate(_times(first, every, until, offsets)):
            trip = f"{route}-{k}"
            trips.append(f"{route},{service},{trip}")
            stop_times += [
                f"{trip},{c},{c},{s},{i + 1}"
                for i, (s, c) in enumerate(zip(stops, clock, strict=True))
            ]
    files["trips.txt"] = "\n".join(trips) + "\n"
    files["stop_times.txt"] = "\n".join(stop_times) + "\n"
    files.update(override)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _zones() -> tuple[np.ndarray, np.ndarray]:
    """Z0 400 m north of S1, Z1 200 m north of S3, Z2 100 m north of S4."""
    lon = np.array([STOP_LON["S1"], STOP_LON["S3"], STOP_LON["S4"]])
    x, y = to_xy(lon, np.full(3, LAT), CRS)
    return np.asarray(x), np.asarray(y) + np.array([400.0, 200.0, 100.0])


def test_hand_timed_journeys(tmp_path: Path) -> None:
    feed = read_feed(write_feed(tmp_path / "feed"))
    bus = bus_level_of_service(feed, *_zones(), CRS)
    # walking 80 m/min on 1.3 x the straight line: 400 m = 6.5 min, 200 m = 3.25, 100 m = 1.625
    # Z0 -> Z1: walk 6.5, wait 5 (half of R1's 10-min headway), ride 14, walk 3.25
    assert bus.minutes[0, 1] == pytest.approx(6.5 + 5 + 14 + 3.25)
    assert bus.generalised[0, 1] == pytest.approx(14 + 2 * (6.5 + 5 + 3.25))
    assert bus.transfers[0, 1] == 0
    # Z0 -> Z2: R1 to S3, transfer (5 min), wait 10 (half of R2's 20 min), ride 12, walk 1.625
    # (the 1-minute weekend route R3 does not run on weekdays)
    assert bus.minutes[0, 2] == pytest.approx(6.5 + 5 + 14 + 5 + 10 + 12 + 1.625)
    assert bus.generalised[0, 2] == pytest.approx(14 + 12 + 2 * (6.5 + 5 + 5 + 10 + 1.625))
    assert bus.transfers[0, 2] == 1
    # no bus runs back west, and Z0 has a single stop near it
    assert np.isinf(bus.generalised[2, 0]) and bus.transfers[2, 0] == -1
    assert np.isinf(bus.generalised[0, 0])


def test_zip_feed_equals_folder_feed(tmp_path: Path) -> None:
    folder = write_feed(tmp_path / "feed")
    archive = tmp_path / "feed.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in folder.iterdir():
            z.write(f, f"gtfs/{f.name}")
    a = bus_level_of_service(read_feed(folder), *_zones(), CRS)
    b = bus_level_of_service(read_feed(archive), *_zones(), CRS)
    np.testing.assert_array_equal(a.generalised, b.generalised)


def test_long_headway_wait_is_capped(tmp_path: Path) -> None:
    # one R1 trip in the AM period: half of a 240-minute headway, capped at 15 minutes
    stop_times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n" + "".join(
        f"R1-0,{c},{c},{s},{i + 1}\n"
        for i, (s, c) in enumerate(
            zip(["S1", "S2", "S3"], ["07:00:00", "07:08:00", "07:14:00"], strict=True)
        )
    )
    feed = read_feed(
        write_feed(
            tmp_path / "feed",
            **{"trips.txt": "route_id,service_id,trip_id\nR1,WK,R1-0\n"},
            **{"stop_times.txt": stop_times},
        )
    )
    bus = bus_level_of_service(feed, *_zones(), CRS)
    assert bus.minutes[0, 1] == pytest.approx(6.5 + 15 + 14 + 3.25)


BAD = [
    ({"stops.txt": None}, "GTFS file stops.txt is missing"),
    (
        {"stops.txt": "stop_id,stop_lat,stop_lon\nS1,-29.9,-71.3\nS1,-29.9,-71.2\n"},
        "stops.txt: row 3 field stop_id is 'S1'; allowed: an id no other stop has",
    ),
    ({"stops.txt": "stop_id,stop_lat\nS1,1\n"}, "stops.txt: missing column(s) stop_lon"),
    (
        {"stops.txt": "stop_id,stop_lat,stop_lon\nS1,95,-71.3\n"},
        "stops.txt: row 2 field stop_lat is '95'; allowed: a number -90..90",
    ),
    (
        {
            "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
            "start_date,end_date\nWK,yes,1,1,1,1,0,0,20240101,20301231\n"
        },
        "calendar.txt: row 2 field monday is 'yes'; allowed: 0 or 1",
    ),
    (
        {"trips.txt": "route_id,service_id,trip_id\nR9,WK,T1\n"},
        "trips.txt: row 2 field route_id is 'R9'; allowed: a route_id of routes.txt",
    ),
    (
        {
            "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
            "R1-0,7:61:00,07:00:00,S1,1\n"
        },
        "stop_times.txt: row 2 field arrival_time is '7:61:00'; allowed: HH:MM:SS",
    ),
    (
        {
            "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
            "R1-0,07:00:00,07:00:00,S9,1\n"
        },
        "stop_times.txt: row 2 field stop_id is 'S9'; allowed: a stop_id of stops.txt",
    ),
]


@pytest.mark.parametrize(("override", "message"), BAD)
def test_bad_feed_is_one_clear_line(tmp_path: Path, override: dict, message: str) -> None:
    folder = write_feed(tmp_path / "feed")
    for name, text in override.items():
        if text is None:
            (folder / name).unlink()
        else:
            (folder / name).write_text(text, encoding="utf-8")
    with pytest.raises(InputDataError) as err:
        read_feed(folder)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_not_a_feed(tmp_path: Path) -> None:
    junk = tmp_path / "feed.zip"
    junk.write_text("not a zip", encoding="utf-8")
    with pytest.raises(InputDataError, match="not a GTFS feed"):
        read_feed(junk)
    with pytest.raises(InputDataError, match="GTFS feed not found"):
        read_feed(tmp_path / "nowhere")


def test_mode_choice_takes_the_timetable_bus(tmp_path: Path) -> None:
    from sim.mobility import modes as md

    bus = bus_level_of_service(read_feed(write_feed(tmp_path / "feed")), *_zones(), CRS)
    n = 2
    los = md.LevelOfService(
        car_min=np.full(n, 10.0),
        car_km=np.full(n, 5.0),
        toll=np.zeros(n),
        dist_km=np.full(n, 5.0),
        parking=np.zeros(n),
        bus=bus.generalised[[0, 2], [1, 0]],  # Z0 -> Z1 served, Z2 -> Z0 not
    )
    args = {
        "cost_per_km": 120.0,
        "bus_fare": 750.0,
        "money_per_min": 100.0,
        "asc_car": 0.0,
        "asc_escort": 0.0,
    }
    util = md.utilities(los, np.full(n, 40), np.zeros(n, bool), **args)
    prob = md.probabilities(util)
    assert prob[0, md.BUS] > 0 and prob[1, md.BUS] == 0
    # the timetable's 43.5 generalised minutes, not the simple bus (1.5 x 10 + 2 x 15 = 45)
    simple = md.utilities(
        md.LevelOfService(los.car_min, los.car_km, los.toll, los.dist_km, los.parking),
        np.full(n, 40),
        np.zeros(n, bool),
        **args,
    )
    assert util[0, md.BUS] - simple[0, md.BUS] == pytest.approx(-0.05 * (43.5 - 45.0))


def test_scenario_feed_path_is_relative_to_the_scenario(tmp_path: Path) -> None:
    from _support import write_scenario

    from sim.scenario import load_scenario

    write_feed(tmp_path / "sub" / "feed")
    path = write_scenario(tmp_path / "sub", body="parameters:\n  gtfs: feed\n")
    assert load_scenario(path).parameters.gtfs == str((tmp_path / "sub" / "feed").resolve())


def test_validate_reads_the_scenario_feed(tmp_path: Path) -> None:
    from _support import write_scenario

    from sim.scenario import load_scenario
    from sim.validate import check_scenario

    write_feed(tmp_path / "feed", **{"routes.txt": "route_short_name\n1\n"})
    scenario = load_scenario(write_scenario(tmp_path, body="parameters:\n  gtfs: feed\n"))
    with pytest.raises(InputDataError, match=r"routes\.txt: missing column"):
        check_scenario(scenario)
