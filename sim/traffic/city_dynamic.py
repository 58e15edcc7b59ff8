"""The city's road network and peak demand for the dynamic model.

:func:`city_network` turns the city's link, node and signal tables into a
:class:`~sim.traffic.dynamic.DynamicNetwork` in the link order of the static
:class:`~sim.traffic.network.Network` (so the two models' link results line up):
signalised approaches discharge at the saturation flow ``s × lanes`` during their
green (the signal is the only discount), other links at their mid-block capacity but
never below ``s × lanes`` (the city's ``capacity_vph`` of arterials already holds an
average signal discount, see geodata/README.md), and every signal is phased from the
junction geometry exactly as the static model phases it (:mod:`sim.traffic.signals`).
:func:`year_peak` loads one year's peak of a scenario on it (``main.py simulate-peak``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from sim.errors import UsageError
from sim.traffic.dynamic import DynamicNetwork, LoadResult, TrafficControl, geometry_signal
from sim.traffic.network import Network, network_from_links
from sim.traffic.od_vehicles import od_vehicles
from sim.traffic.peak_outputs import HOUR_S, PeakOutputs, peak_outputs
from sim.traffic.signals import (
    CLASS_RANK,
    SATURATION_PER_LANE,
    SignalPlans,
    approach_headings,
    exit_headings,
)

if TYPE_CHECKING:
    from sim.city import City
    from sim.scenario import Scenario
    from sim.traffic.peak import PeakResult


def city_network(
    links: pd.DataFrame,
    nodes: pd.DataFrame,
    signals: pd.DataFrame,
    plans: SignalPlans,
    zone_centroids: Sequence[int],
) -> tuple[DynamicNetwork, Network]:
    """The dynamic network of the city's links and signal plans, and its static twin.

    Parameters
    ----------
    links, nodes, signals
        The city's tables (links with ``lanes``, ``length_m``, ``free_speed_kmh``,
        ``capacity_vph``, ``link_type``, ``signal_id`` and line geometries; signals
        with ``node_id``).
    plans
        The signal plans in force (cycle, effective greens and offset per signal).
    zone_centroids
        Centroid node id of each zone, in zone order.
    """
    static = network_from_links(links, nodes, zone_centroids)
    lanes = links["lanes"].to_numpy(dtype=np.int64).clip(min=1)
    sat = SATURATION_PER_LANE * lanes
    signalised = links["signal_id"].isin(list(plans.greens)).to_numpy()
    capacity = links["capacity_vph"].to_numpy(dtype=float)
    net = DynamicNetwork(
        link_ids=[str(k) for k in links.index],
        link_from=static.link_from.astype(np.int64),
        link_to=static.link_to.astype(np.int64),
        n_nodes=static.n_nodes,
        length_m=links["length_m"].to_numpy(dtype=float),
        lanes=lanes,
        speed_ms=links["free_speed_kmh"].to_numpy(dtype=float) / 3.6,
        capacity_vph=np.where(signalised, sat, np.maximum(capacity, sat)),
    )
    h_in = approach_headings(links).to_numpy()
    h_out = exit_headings(links).to_numpy()
    rank = links["link_type"].map(CLASS_RANK).fillna(0.0).to_numpy()
    node_index = pd.Index(static.node_ids)
    for sid, greens in plans.greens.items():
        node = int(node_index.get_loc(int(signals.at[sid, "node_id"])))
        net.signals.append(
            geometry_signal(
                net, node, greens, h_in, h_out, rank, plans.offset_of(sid), capacity * lanes
            )
        )
    return net, static


@dataclass
class CityPeak:
    """One year's dynamic peak loading of a scenario and what it reports."""

    year: int
    control: str
    result: LoadResult
    net: DynamicNetwork
    links: pd.DataFrame
    outputs: PeakOutputs


def year_peak(
    scenario: Scenario,
    city: City,
    year: int,
    *,
    control: str = "fixed",
    dt: float = 1.0,
    scale: float = 1.0,
) -> CityPeak:
    """Simulate a scenario up to ``year`` and load that year's peak on the dynamic model.

    The years before ``year`` run without traffic (demography, schools); ``year`` runs
    with it, and its busiest-hour car OD matrix (the one the static assignment loads,
    times ``scale``) is loaded as whole vehicles departing evenly over an hour on the
    shortest paths of the static equilibrium's link times, on the year's links and
    signal plans under ``control``. Replication 0's seed of the scenario is used.

    Raises
    ------
    UsageError
        ``year`` is outside the scenario's years (``field`` year).
    GridlockError
        The loading stopped (the links involved are named).
    """
    from sim.model import CityModel
    from sim.seeds import replication_seeds

    if not scenario.start_year <= year <= scenario.end_year:
        allowed = f"{scenario.start_year}..{scenario.end_year}"
        raise UsageError(field="year", value=str(year), allowed=allowed)
    seed = replication_seeds(scenario.seed, 1)[0]
    model = CityModel(scenario, city, rng=seed, traffic=True)
    traffic = model.traffic
    assert traffic is not None
    for _ in range(scenario.start_year, year):
        model.traffic = None  # demography and schools only
        model.step()
    model.traffic = traffic
    captured: dict[str, np.ndarray] = {}
    step = traffic.step

    def capture(y: int, demand: np.ndarray, rel_gap: float | None = None) -> PeakResult:
        captured["demand"] = demand.copy()  # the last (converged) demand of the year
        return step(y, demand, rel_gap=rel_gap)

    traffic.step = capture
    model.step()
    links = traffic._road_links(year)
    net, static = city_network(links, city.nodes, city.signals, traffic.plans, traffic.centroids)
    _, ue_minutes = traffic.network_times(year)
    vehicles = od_vehicles(static, captured["demand"] * scale, 0.0, HOUR_S, seed, cost=ue_minutes)
    model_control = TrafficControl(net, control, dt)
    result = model_control.run(vehicles)
    greens = [a.greens for a in model_control.controllers] if control == "webster" else None
    schools = gpd.GeoDataFrame(geometry=gpd.points_from_xy(model.schools.x, model.schools.y))
    outputs = peak_outputs(
        result, net, links, schools, list(traffic.plans.greens),
        control=control, year=year, greens=greens,
    )  # fmt: skip
    return CityPeak(year, control, result, net, links, outputs)
