"""Bus level of service between zones from a GTFS feed, for the AM period.

:func:`read_feed` reads a feed (a ``.zip`` or a folder) with ``stops.txt``,
``routes.txt``, ``trips.txt``, ``stop_times.txt`` and ``calendar.txt``; a missing
file, column or a bad value is one :class:`~sim.errors.InputDataError` line naming
the file, row, field and what is allowed. :func:`bus_level_of_service` then gives
each zone pair the best bus journey of a weekday AM period (06:00–10:00 departures,
services running on a Monday–Friday), with at most one transfer:

- walk from the zone to a stop within :data:`MAX_WALK_M` (straight line times
  :data:`~sim.mobility.trips.DETOUR_FACTOR` at :data:`~sim.mobility.modes.WALK_KMH`), and
  from the last stop to the destination zone;
- wait half the route's headway at the boarding stop (AM minutes over the route's AM
  departures there), capped at :data:`MAX_WAIT_MIN` (passengers who know the timetable
  time their arrival; Wardman 2004 and the usual assignment practice);
- ride the mean scheduled time between the two stops over the route's AM trips;
- a transfer at a stop served by two routes adds :data:`TRANSFER_PENALTY_MIN` and the
  second route's wait.

Walking and waiting weigh :data:`~sim.mobility.modes.OVT_WEIGHT` times riding in the
generalised minutes (as :meth:`sim.mobility.modes.LevelOfService.bus_min`); a zone pair
the feed does not serve has ``inf`` (no bus): the feed is the city's whole bus system.
A scenario uses a feed with ``parameters.gtfs: PATH`` (relative to the scenario file);
``validate`` reads it too.

Limits: a zone's journeys start and end at its centroid; waits come from headways, not
from timed connections; stop-to-stop matrices take about 100 bytes × stops², so a feed of
a few thousand stops is the practical size (clip a regional feed to the city first).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.city import City
from sim.errors import InputDataError
from sim.geo import to_xy
from sim.mobility import departure as dep
from sim.mobility import modes as md
from sim.mobility.trips import DETOUR_FACTOR

#: Farthest walk to or from a stop (m, straight line).
MAX_WALK_M = 800.0
#: Cap on the expected wait at a stop (minutes): half a headway of at most 30 minutes.
MAX_WAIT_MIN = 15.0
#: Minutes a transfer costs beyond its wait (walking between platforms, the risk of a miss).
TRANSFER_PENALTY_MIN = 5.0
#: The files a feed needs and their required columns.
REQUIRED: dict[str, tuple[str, ...]] = {
    "stops": ("stop_id", "stop_lat", "stop_lon"),
    "routes": ("route_id",),
    "trips": ("route_id", "service_id", "trip_id"),
    "stop_times": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
    "calendar": (
        "service_id",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "start_date",
        "end_date",
    ),
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


@dataclass
class Feed:
    """The tables of a GTFS feed that the level of service uses (strings as read)."""

    stops: pd.DataFrame  # stop_id, lat, lon
    trips: pd.DataFrame  # trip_id, route_id, service_id
    stop_times: pd.DataFrame  # trip_id, stop_id, seq, arr_min, dep_min
    weekday_services: set[str]


def _rows(source: Path, name: str) -> Iterator[dict[str, str]]:
    """The rows of ``name.txt`` in a feed folder or zip, as dicts (BOM and blanks removed)."""
    file = f"{name}.txt"
    if source.is_dir():
        path = source / file
        if not path.is_file():
            raise InputDataError(f"{source}: GTFS file {file} is missing")
        text = path.read_text(encoding="utf-8-sig")
    else:
        try:
            with zipfile.ZipFile(source) as z:
                members = {Path(m).name: m for m in z.namelist()}
                if file not in members:
                    raise InputDataError(f"{source}: GTFS file {file} is missing")
                text = z.read(members[file]).decode("utf-8-sig")
        except zipfile.BadZipFile:
            raise InputDataError(
                f"{source}: not a GTFS feed (allowed: a .zip or a folder of .txt files)"
            ) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED[name] if c not in header]
    if missing:
        raise InputDataError(f"{source}/{file}: missing column(s) {', '.join(missing)}")
    for row in reader:
        yield {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}


def _number(
    source: Path, file: str, row: int, field: str, value: str, lo: float, hi: float
) -> float:
    try:
        x = float(value)
    except ValueError:
        x = float("nan")
    if not (lo <= x <= hi):
        raise InputDataError(
            f"{source}/{file}: row {row} field {field} is {value!r}; "
            f"allowed: a number {lo:g}..{hi:g}"
        )
    return x


def _clock(source: Path, row: int, field: str, value: str) -> float:
    """GTFS time ``H:MM:SS`` (hours may pass 24) in minutes after midnight."""
    parts = value.split(":")
    ok = len(parts) == 3 and all(p.isdigit() for p in parts)
    if ok and int(parts[1]) < 60 and int(parts[2]) < 60 and int(parts[0]) < 48:
        h, m, s = (int(p) for p in parts)
        return h * 60.0 + m + s / 60.0
    raise InputDataError(
        f"{source}/stop_times.txt: row {row} field {field} is {value!r}; allowed: HH:MM:SS"
    )


def read_feed(path: str | Path) -> Feed:
    """Read a GTFS feed (zip or folder); see the module text for what is checked.

    Raises
    ------
    InputDataError
        The feed does not exist, a file or column is missing, or a value is malformed
        (one line: file, row (from 2, the header is row 1), field, value, allowed).
    """
    source = Path(path)
    if not source.exists():
        raise InputDataError(f"{source}: GTFS feed not found")
    stops, seen = [], set()
    for i, r in enumerate(_rows(source, "stops"), start=2):
        lat = _number(source, "stops.txt", i, "stop_lat", r["stop_lat"], -90, 90)
        lon = _number(source, "stops.txt", i, "stop_lon", r["stop_lon"], -180, 180)
        if r["stop_id"] in seen:
            raise InputDataError(
                f"{source}/stops.txt: row {i} field stop_id is {r['stop_id']!r}; "
                "allowed: an id no other stop has"
            )
        seen.add(r["stop_id"])
        stops.append((r["stop_id"], lat, lon))
    routes = {r["route_id"] for r in _rows(source, "routes")}
    services = set()
    for i, r in enumerate(_rows(source, "calendar"), start=2):
        for day in REQUIRED["calendar"][1:8]:
            if r[day] not in ("0", "1"):
                raise InputDataError(
                    f"{source}/calendar.txt: row {i} field {day} is {r[day]!r}; allowed: 0 or 1"
                )
        if any(r[day] == "1" for day in WEEKDAYS):
            services.add(r["service_id"])
    trips = []
    for i, r in enumerate(_rows(source, "trips"), start=2):
        if r["route_id"] not in routes:
            raise InputDataError(
                f"{source}/trips.txt: row {i} field route_id is {r['route_id']!r}; "
                "allowed: a route_id of routes.txt"
            )
        trips.append((r["trip_id"], r["route_id"], r["service_id"]))
    stop_ids = {s[0] for s in stops}
    trip_ids = {t[0] for t in trips}
    times = []
    for i, r in enumerate(_rows(source, "stop_times"), start=2):
        for field, known, where in (
            ("trip_id", trip_ids, "trips.txt"),
            ("stop_id", stop_ids, "stops.txt"),
        ):
            if r[field] not in known:
                raise InputDataError(
                    f"{source}/stop_times.txt: row {i} field {field} is {r[field]!r}; "
                    f"allowed: a {field} of {where}"
                )
        seq = _number(source, "stop_times.txt", i, "stop_sequence", r["stop_sequence"], 0, 1e9)
        arr = _clock(source, i, "arrival_time", r["arrival_time"] or r["departure_time"])
        dpt = _clock(source, i, "departure_time", r["departure_time"] or r["arrival_time"])
        times.append((r["trip_id"], r["stop_id"], seq, arr, dpt))
    return Feed(
        stops=pd.DataFrame(stops, columns=["stop_id", "lat", "lon"]),
        trips=pd.DataFrame(trips, columns=["trip_id", "route_id", "service_id"]),
        stop_times=pd.DataFrame(times, columns=["trip_id", "stop_id", "seq", "arr", "dep"]),
        weekday_services=services,
    )


@dataclass
class BusService:
    """Zone-to-zone bus level of service of the AM period (``(n_zones, n_zones)`` each).

    Attributes
    ----------
    generalised
        Ride minutes plus :data:`~sim.mobility.modes.OVT_WEIGHT` × (walk + wait)
        (``inf``: no bus).
    minutes
        Door-to-door minutes of the same journey (walk + wait + ride + transfer).
    transfers
        0 or 1 on the best journey (-1: no bus).
    """

    generalised: np.ndarray
    minutes: np.ndarray
    transfers: np.ndarray


def _route_legs(feed: Feed) -> pd.DataFrame:
    """Per route and stop pair (board, alight): mean ride minutes and the boarding wait."""
    st = feed.stop_times.merge(feed.trips, on="trip_id")
    st = st[st["service_id"].isin(feed.weekday_services)]
    st = st.sort_values(["trip_id", "seq"])
    legs = []
    for _, trip in st.groupby("trip_id", sort=False):
        s = trip["stop_id"].to_numpy()
        d = trip["dep"].to_numpy()
        a = trip["arr"].to_numpy()
        i, j = np.triu_indices(len(s), k=1)
        legs.append(
            pd.DataFrame(
                {
                    "route_id": trip["route_id"].iloc[0],
                    "trip_id": trip["trip_id"].iloc[0],
                    "board": s[i],
                    "alight": s[j],
                    "dep": d[i],
                    "ride": a[j] - d[i],
                }
            )
        )
    if not legs:
        return pd.DataFrame(columns=["route_id", "board", "alight", "ride", "wait"])
    legs_df = pd.concat(legs, ignore_index=True)
    am = legs_df[(legs_df["dep"] >= dep.AM_START) & (legs_df["dep"] < dep.AM_END)]
    am = am[am["board"] != am["alight"]]
    period = float(dep.AM_END - dep.AM_START)
    # trips of the route leaving its boarding stop in the AM period
    deps = am.groupby(["route_id", "board"])["trip_id"].nunique()
    out = am.groupby(["route_id", "board", "alight"], as_index=False)["ride"].mean()
    n = deps.reindex(pd.MultiIndex.from_frame(out[["route_id", "board"]])).to_numpy()
    out["wait"] = np.minimum(period / n / 2.0, MAX_WAIT_MIN)
    return out


def bus_level_of_service(
    feed: Feed, zone_x: np.ndarray, zone_y: np.ndarray, crs: object
) -> BusService:
    """The best AM bus journey between every pair of zone points (at most one transfer).

    Parameters
    ----------
    feed
        A feed from :func:`read_feed`.
    zone_x, zone_y
        Where each zone's trips start and end (city CRS metres, e.g. the centroids).
    crs
        The city CRS, to project the stops.
    """
    n = len(zone_x)
    legs = _route_legs(feed)
    stop_pos = pd.Index(feed.stops["stop_id"])
    sx, sy = to_xy(feed.stops["lon"].to_numpy(), feed.stops["lat"].to_numpy(), crs)
    n_stops = len(stop_pos)
    walk_m = np.hypot(zone_x[:, None] - sx[None, :], zone_y[:, None] - sy[None, :])
    walk = np.where(walk_m <= MAX_WALK_M, walk_m * DETOUR_FACTOR / (md.WALK_KMH / 0.06), np.inf)
    # stop to stop, one route: generalised and plain minutes of the best route
    b = stop_pos.get_indexer(legs["board"])
    a = stop_pos.get_indexer(legs["alight"])
    gen1 = np.full((n_stops, n_stops), np.inf)
    min1 = np.full((n_stops, n_stops), np.inf)
    cost = legs["ride"].to_numpy() + md.OVT_WEIGHT * legs["wait"].to_numpy()
    plain = legs["ride"].to_numpy() + legs["wait"].to_numpy()
    order = np.argsort(-cost, kind="stable")  # the cheapest route written last wins
    gen1[b[order], a[order]] = cost[order]
    min1[b[order], a[order]] = plain[order]
    # one transfer at a stop x: (s -> x) then (x -> t) on another or the same route
    gen2 = np.full_like(gen1, np.inf)
    min2 = np.full_like(min1, np.inf)
    served = pd.concat(
        [
            legs[["board", "route_id"]],
            legs[["alight", "route_id"]].set_axis(["board", "route_id"], axis=1),
        ]
    )
    lines = served.groupby("board")["route_id"].nunique()
    hubs = stop_pos.get_indexer(lines.index[lines.to_numpy() >= 2])
    for x in hubs:
        cand = gen1[:, x, None] + md.OVT_WEIGHT * TRANSFER_PENALTY_MIN + gen1[None, x, :]
        better = cand < gen2
        gen2 = np.where(better, cand, gen2)
        min2 = np.where(better, min1[:, x, None] + TRANSFER_PENALTY_MIN + min1[None, x, :], min2)
    two = gen2 < gen1
    stop_gen = np.where(two, gen2, gen1)
    stop_min = np.where(two, min2, min1)
    stop_tr = np.where(two, 1, 0)
    gen = np.full((n, n), np.inf)
    minutes = np.full((n, n), np.inf)
    transfers = np.full((n, n), -1, dtype=np.int64)
    for z in range(n):
        near = np.flatnonzero(np.isfinite(walk[z]))
        if not len(near):
            continue
        # board at s near z, alight at t, walk from t to every zone
        g = (md.OVT_WEIGHT * walk[z, near, None] + stop_gen[near]).reshape(len(near), n_stops)
        s_best = np.argmin(g, axis=0)
        via_gen = g[s_best, np.arange(n_stops)]
        via_min = walk[z, near[s_best]] + stop_min[near[s_best], np.arange(n_stops)]
        via_tr = stop_tr[near[s_best], np.arange(n_stops)]
        total = via_gen[None, :] + md.OVT_WEIGHT * walk  # (zones, stops)
        t_best = np.argmin(total, axis=1)
        rows = np.arange(n)
        gen[z] = total[rows, t_best]
        minutes[z] = via_min[t_best] + walk[rows, t_best]
        transfers[z] = np.where(np.isfinite(gen[z]), via_tr[t_best], -1)
    return BusService(generalised=gen, minutes=minutes, transfers=transfers)


def city_bus_service(city: City, feed: str | Path | None) -> BusService | None:
    """The bus service between ``city``'s zone centroids from a feed (None: no feed)."""
    if feed is None:
        return None
    cent = city.zones.geometry.centroid
    return bus_level_of_service(
        read_feed(feed), cent.x.to_numpy(), cent.y.to_numpy(), city.zones.crs
    )
