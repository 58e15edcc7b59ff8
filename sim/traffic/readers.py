"""Networks and vehicles for the dynamic model from SUMO and CityFlow files.

SUMO: a ``.net.xml`` (edges that are not internal, their lanes' length and speed,
junction positions, connections with their traffic-light link index, static
``tlLogic`` programs) and a ``.rou.xml`` (``vehicle`` with ``depart`` and a nested
``route`` or a ``route`` id), or a ``.sumocfg`` naming both. CityFlow: a roadnet JSON
(roads with points and lanes, intersections with road links and light phases) and a
flow JSON (vehicles with a route of roads and ``startTime``, repeated every
``interval`` s until ``endTime``). Every phase of a file's signal program becomes a
phase of the dynamic model with the file's duration and the movements it gives green
(SUMO ``G``, ``g``, ``s``; CityFlow ``availableRoadLinks``); amber phases give none.
Signalised approaches discharge at the saturation flow, other links at
:data:`FREE_CAPACITY_PER_LANE`. A SUMO edge is lengthened by the way across the
junction at its end (its connections' internal lanes, mean time at their speeds:
SUMO's turns are slow), so that routes are as long in time as SUMO's.
TNTP: a ``_net.tntp`` and a ``_trips.tntp``; each OD
cell becomes that many vehicles (rounded by largest remainders), routed on the
free-flow shortest path, departing in a seeded random order evenly over the period;
capacity (veh/h) and free-flow time are the file's, lanes = capacity / 1,800 rounded up.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import InputDataError
from sim.inputs import check_input_file
from sim.traffic import tntp
from sim.traffic.dynamic import DynamicNetwork, SignalSpec, Vehicles
from sim.traffic.network import network_from_tntp
from sim.traffic.od_vehicles import od_vehicles
from sim.traffic.signals import SATURATION_PER_LANE

#: Capacity of an unsignalised link per lane (veh/h).
FREE_CAPACITY_PER_LANE = 1800.0
#: TNTP lengths come in the file's own units: a link's length in metres is taken as
#: its free-flow time at this speed (m/s), for its storage.
TNTP_SPEED_MS = 13.9
#: Seed of the order in which a TNTP trip table's vehicles depart.
TNTP_SEED = 0
SUMO_GREEN = set("Ggs")
#: SUMO's default passenger car: acceleration and deceleration (m/s²).
SUMO_ACCEL, SUMO_DECEL = 2.6, 4.5


def _parse_xml(path: Path) -> ET.Element:
    check_input_file(path, "SUMO file")
    try:
        return ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise InputDataError(f"{path}: cannot read the XML file ({exc})") from None


def _read_json(path: Path) -> Any:
    check_input_file(path, "CityFlow file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputDataError(f"{path}: cannot read the JSON file ({exc})") from None


def _network(
    ids: list[str], ends: list[tuple[str, str]], length: list[float], lanes: list[int],
    speed: list[float],
) -> tuple[DynamicNetwork, dict[str, int], dict[str, int]]:  # fmt: skip
    """A network (no signals yet) and its link and node indices by id."""
    nodes: dict[str, int] = {}
    for a, b in ends:
        nodes.setdefault(a, len(nodes))
        nodes.setdefault(b, len(nodes))
    lanes_a = np.asarray(lanes, dtype=np.int64)
    net = DynamicNetwork(
        link_ids=ids,
        link_from=np.array([nodes[a] for a, _ in ends], dtype=np.int64),
        link_to=np.array([nodes[b] for _, b in ends], dtype=np.int64),
        n_nodes=len(nodes),
        length_m=np.asarray(length, dtype=float),
        lanes=lanes_a,
        speed_ms=np.asarray(speed, dtype=float),
        capacity_vph=FREE_CAPACITY_PER_LANE * lanes_a.astype(float),
    )
    return net, {k: i for i, k in enumerate(ids)}, nodes


def _signal(
    net: DynamicNetwork, node: int, durations: list[float], green: list[set[tuple[int, int]]],
    offset: float,
) -> SignalSpec:  # fmt: skip
    """A signal of a file's program: phase p gives green to the movements in green[p]."""
    masks: dict[tuple[int, int], tuple[int, int]] = {}
    for p, moves in enumerate(green):
        for mv in moves:
            full, _ = masks.get(mv, (0, 0))
            masks[mv] = (full | 1 << p, 0)
    for a, _ in masks:
        net.capacity_vph[a] = SATURATION_PER_LANE * net.lanes[a]
    return SignalSpec(node=node, greens=np.asarray(durations, float), lost_s=0.0,
                      offset_s=offset, masks=masks)  # fmt: skip


def _vehicles(ids: list[str], depart: list[float], routes: list[list[int]]) -> Vehicles:
    order = np.argsort(np.asarray(depart, dtype=float), kind="stable")
    return Vehicles.from_routes(
        [ids[i] for i in order], np.asarray(depart, float)[order], [routes[i] for i in order]
    )


def _route(path: Path, who: str, names: list[str], index: dict[str, int]) -> list[int]:
    unknown = [n for n in names if n not in index]
    if unknown or not names:
        what = f"unknown road {unknown[0]!r}" if unknown else "an empty route"
        raise InputDataError(f"{path}: vehicle {who} has {what}; allowed: roads of the network")
    return [index[n] for n in names]


def _junction_seconds(root: ET.Element) -> dict[str, float]:
    """Per edge, the mean time (s) across the junction at its end over its connections.

    SUMO edges stop at the junction; a connection crosses it on internal lanes (``via``,
    chained for turns that wait inside), each at its own speed (a right turn of a small
    junction ~4 m/s). A connection takes their length over speed, plus the time lost
    braking to the slowest of them from the edge's speed and accelerating back,
    ``Δv² / (2 v) (1 / a + 1 / b)`` with SUMO's default car (a = 2.6, b = 4.5 m/s²).
    """
    lanes = {ln.get("id", ""): ln for e in root.iter("edge") if e.get("function") ==
             "internal" for ln in e.findall("lane")}  # fmt: skip
    onward = {c.get("from", "") + "_" + c.get("fromLane", "0"): c.get("via", "")
              for c in root.iter("connection") if c.get("from", "").startswith(":")}  # fmt: skip
    speed = {e.get("id", ""): float(e.findall("lane")[0].get("speed", "13.89"))
             for e in root.iter("edge") if e.findall("lane")}  # fmt: skip
    times: dict[str, list[float]] = {}
    for con in root.iter("connection"):
        src, via = con.get("from", ""), con.get("via")
        if src.startswith(":") or not via:
            continue
        total, seen, v0 = 0.0, 0, speed.get(src, 13.89)
        slowest = v0
        while via in lanes and seen < 4:  # an internal lane, then the ones it leads to
            v = max(float(lanes[via].get("speed", "13.89")), 0.1)
            total += float(lanes[via].get("length", "0")) / v
            slowest = min(slowest, v)
            via, seen = onward.get(via, ""), seen + 1
        total += (v0 - slowest) ** 2 / (2 * v0) * (1 / SUMO_ACCEL + 1 / SUMO_DECEL)
        times.setdefault(src, []).append(total)
    return {e: float(np.mean(t)) for e, t in times.items()}


def read_sumo(net_path: Path, rou_path: Path) -> tuple[DynamicNetwork, Vehicles]:
    """The network, signals and vehicles of a SUMO ``.net.xml`` and ``.rou.xml``."""
    root = _parse_xml(net_path)
    ids: list[str] = []
    ends: list[tuple[str, str]] = []
    length: list[float] = []
    lanes: list[int] = []
    speed: list[float] = []
    for edge in root.iter("edge"):
        if edge.get("function") == "internal":
            continue
        lane_el = edge.findall("lane")
        if not lane_el or edge.get("from") is None or edge.get("to") is None:
            raise InputDataError(f"{net_path}: edge {edge.get('id')} lacks from/to or lanes")
        ids.append(edge.get("id", ""))
        ends.append((edge.get("from", ""), edge.get("to", "")))
        length.append(float(lane_el[0].get("length", "0")))
        speed.append(float(lane_el[0].get("speed", "13.89")))
        lanes.append(len(lane_el))
    extra = _junction_seconds(root)  # the way across the junction at its end
    length = [ln + extra.get(e, 0.0) * v for e, ln, v in zip(ids, length, speed, strict=True)]
    net, index, nodes = _network(ids, ends, length, lanes, speed)
    links_of: dict[str, dict[int, set[tuple[int, int]]]] = {}
    for con in root.iter("connection"):
        tl_id, a, b = con.get("tl"), con.get("from", ""), con.get("to", "")
        if tl_id is None or a not in index or b not in index:
            continue
        links_of.setdefault(tl_id, {}).setdefault(int(con.get("linkIndex", "0")), set()).add(
            (index[a], index[b])
        )
    for tl in root.iter("tlLogic"):
        tid = tl.get("id", "")
        if tid not in nodes or tid not in links_of:
            continue
        durations: list[float] = []
        green: list[set[tuple[int, int]]] = []
        for ph in tl.findall("phase"):
            state = ph.get("state", "")
            durations.append(float(ph.get("duration", "0")))
            green.append({
                mv for k, ch in enumerate(state) if ch in SUMO_GREEN
                for mv in links_of[tid].get(k, ())
            })  # fmt: skip
        spec = _signal(net, nodes[tid], durations, green, float(tl.get("offset", "0")))
        net.signals.append(spec)
    rou = _parse_xml(rou_path)
    named = {r.get("id"): r.get("edges", "").split() for r in rou.iter("route") if r.get("id")}
    vids: list[str] = []
    depart: list[float] = []
    routes: list[list[int]] = []
    for veh in rou.iter("vehicle"):
        vid = veh.get("id", str(len(vids)))
        nested = veh.find("route")
        edges = (
            nested.get("edges", "").split()
            if nested is not None
            else named.get(veh.get("route", ""), [])
        )
        try:
            depart.append(float(veh.get("depart", "")))
        except ValueError:
            raise InputDataError(
                f"{rou_path}: vehicle {vid} depart={veh.get('depart')!r}; allowed: seconds"
            ) from None
        vids.append(vid)
        routes.append(_route(rou_path, vid, edges, index))
    return net, _vehicles(vids, depart, routes)


def read_sumocfg(cfg: Path) -> tuple[DynamicNetwork, Vehicles]:
    """The network and vehicles a ``.sumocfg`` names (paths relative to it)."""
    root = _parse_xml(cfg)
    found = {}
    for key in ("net-file", "route-files"):
        el = root.find(f".//{key}")
        if el is None or not el.get("value"):
            raise InputDataError(f"{cfg}: no <{key} value=...> in <input>")
        found[key] = cfg.parent / el.get("value", "").split(",")[0]
    return read_sumo(found["net-file"], found["route-files"])


def read_cityflow(roadnet: Path, flow: Path) -> tuple[DynamicNetwork, Vehicles]:
    """The network, signals and vehicles of a CityFlow roadnet and flow file."""
    data = _read_json(roadnet)
    try:
        roads, inters = data["roads"], data["intersections"]
        ids = [r["id"] for r in roads]
        ends = [(r["startIntersection"], r["endIntersection"]) for r in roads]
        pts = [np.array([[p["x"], p["y"]] for p in r["points"]]) for r in roads]
        length = [float(np.hypot(*np.diff(p, axis=0).T).sum()) for p in pts]
        lanes = [len(r["lanes"]) for r in roads]
        speed = [float(max(ln["maxSpeed"] for ln in r["lanes"])) for r in roads]
    except (KeyError, TypeError, ValueError) as exc:
        raise InputDataError(f"{roadnet}: not a CityFlow roadnet (missing {exc})") from None
    net, index, nodes = _network(ids, ends, length, lanes, speed)
    for it in inters:
        light = it.get("trafficLight") or {}
        phases = light.get("lightphases") or []
        if it.get("virtual") or not phases:
            continue
        links = [(index[rl["startRoad"]], index[rl["endRoad"]]) for rl in it["roadLinks"]]
        green = [{links[k] for k in ph["availableRoadLinks"]} for ph in phases]
        durations = [float(ph["time"]) for ph in phases]
        net.signals.append(_signal(net, nodes[it["id"]], durations, green, 0.0))
    vids, depart, routes = [], [], []
    for i, entry in enumerate(_read_json(flow)):
        try:
            t, end, every = entry["startTime"], entry["endTime"], entry.get("interval", 1.0)
            names = entry["route"]
        except (KeyError, TypeError):
            raise InputDataError(f"{flow}: entry {i} lacks startTime/endTime/route") from None
        route = _route(flow, str(i), names, index)
        k = 0
        while True:
            vids.append(f"flow_{i}_{k}")
            depart.append(float(t))
            routes.append(route)
            k += 1
            t += every
            if end < 0 or t > end or every <= 0:
                break
    return net, _vehicles(vids, depart, routes)


def read_tntp(
    net_path: Path, trips_path: Path, t0: float, t1: float
) -> tuple[DynamicNetwork, Vehicles]:
    """A TNTP network and trip table as vehicles departing evenly over ``t0..t1`` s."""
    check_input_file(net_path, "TNTP network")
    check_input_file(trips_path, "TNTP trip table")
    net = network_from_tntp(net_path)
    trips = tntp.read_trips(trips_path)
    if trips.shape[0] != net.n_zones:
        raise InputDataError(
            f"{trips_path}: {trips.shape[0]} zones but {net_path} has {net.n_zones} zones"
        )
    fft_s = np.maximum(net.fftime * 60.0, 0.5)
    lanes = np.maximum(np.ceil(net.capacity / FREE_CAPACITY_PER_LANE), 1).astype(np.int64)
    dyn = DynamicNetwork(
        link_ids=[f"{net.node_ids[a]}-{net.node_ids[b]}" for a, b in
                  zip(net.link_from, net.link_to, strict=True)],
        link_from=net.link_from.astype(np.int64),
        link_to=net.link_to.astype(np.int64),
        n_nodes=net.n_nodes,
        length_m=fft_s * TNTP_SPEED_MS,
        lanes=lanes,
        speed_ms=np.full(net.n_links, TNTP_SPEED_MS),
        capacity_vph=net.capacity.astype(float),
    )  # fmt: skip
    veh = od_vehicles(net, trips, t0, t1, TNTP_SEED, str(trips_path))
    return dyn, veh
