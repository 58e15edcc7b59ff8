"""import-osm: road layers from a hand-made .osm extract and an osmnx-style .graphml."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pyogrio
import pyproj
import pytest

from sim.cli import main as cli_main
from sim.errors import GeodataError, UsageError
from sim.traffic import osm, osm_tags
from sim.traffic.network import network_from_links

DATA = Path(__file__).resolve().parent / "data"
TINY = DATA / "tiny_city.osm"
GEOD = pyproj.Geod(ellps="WGS84")
LONLAT = {  # tiny_city.osm
    1: (-71.2500, -29.9000),
    2: (-71.2490, -29.9000),
    3: (-71.2480, -29.9000),
    4: (-71.2500, -29.9010),
    5: (-71.2490, -29.9010),
    6: (-71.2480, -29.9010),
}


def _geodesic_m(a: int, b: int) -> float:
    (lon1, lat1), (lon2, lat2) = LONLAT[a], LONLAT[b]
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


@pytest.fixture(scope="module")
def tiny() -> osm.RoadLayer:
    return osm.import_osm(TINY)


def _link(layer: osm.RoadLayer, a: int, b: int):
    rows = layer.links[(layer.links["a_node"] == a) & (layer.links["b_node"] == b)]
    assert len(rows) == 1, (a, b)
    return rows.iloc[0]


def test_osm_topology(tiny: osm.RoadLayer) -> None:
    assert tiny.crs.to_epsg() == 32719  # UTM 19S for La Serena
    # node 7 is a shape node; 8, 9, 10 hang on footway/spur/service/private ways
    assert list(tiny.nodes.index) == [1, 2, 3, 4, 5, 6]
    pairs = set(zip(tiny.links["a_node"], tiny.links["b_node"], strict=True))
    two_way = {(1, 2), (2, 3), (4, 5), (5, 6), (2, 5)}
    expected = two_way | {(b, a) for a, b in two_way} | {(1, 4), (3, 6)}
    assert pairs == expected  # 102 only 1 -> 4, 104 (oneway=-1) only 3 -> 6
    assert list(tiny.links.index) == list(range(1, 13))
    graph = nx.DiGraph(list(pairs))
    assert nx.is_strongly_connected(graph)


def test_osm_attributes_from_tags_and_defaults(tiny: osm.RoadLayer) -> None:
    primary = _link(tiny, 2, 1)  # lanes=4 two-way, maxspeed=60
    assert (primary["lanes"], primary["free_speed_kmh"], primary["capacity_vph"]) == (2, 60, 2000)
    assert primary["name"] == "Avenida Norte" and primary["link_type"] == "primary"
    res = _link(tiny, 4, 5)  # residential defaults; maxspeed=signals is not a number
    assert (res["lanes"], res["free_speed_kmh"], res["capacity_vph"]) == (1, 30, 500)
    tert = _link(tiny, 2, 5)
    assert tert["free_speed_kmh"] == pytest.approx(25 * 1.609344)
    sec = _link(tiny, 3, 6)  # oneway with lanes=2: both lanes one way
    assert (sec["lanes"], sec["capacity_vph"]) == (2, 1800)


def test_osm_geometry_and_lengths(tiny: osm.RoadLayer) -> None:
    west = _link(tiny, 1, 4)
    assert len(west.geometry.coords) == 3  # through the shape node 7
    for a, b in ((1, 4), (1, 2), (2, 5), (3, 6)):
        row = _link(tiny, a, b)
        # UTM scale error near -71.25 is below 0.1 %
        assert row["length_m"] == pytest.approx(_geodesic_m(a, b), rel=2e-3)
        assert row["length_m"] == pytest.approx(row.geometry.length)
        start = tiny.nodes.geometry.loc[a]
        assert start.distance(row.geometry.interpolate(0)) < 1e-6


def test_osm_signals(tiny: osm.RoadLayer) -> None:
    assert list(tiny.signals["node_id"]) == [5]
    sid = int(tiny.signals.index[0])
    assert tiny.nodes.loc[5, "signal_id"] == sid
    into_5 = tiny.links[tiny.links["b_node"] == 5]
    assert len(into_5) == 3 and (into_5["signal_id"] == sid).all()
    assert (tiny.links.loc[tiny.links["b_node"] != 5, "signal_id"] == -1).all()
    row = tiny.signals.iloc[0]
    greens = [float(g) for g in row["green_s"].split(",")]
    assert len(greens) == row["n_phases"] and sum(greens) < row["cycle_s"]


def test_layer_feeds_the_assignment_network(tiny: osm.RoadLayer) -> None:
    net = network_from_links(tiny.links, tiny.nodes, [1, 6])
    assert net.n_links == 12 and net.n_nodes == 6
    np.testing.assert_allclose(net.length, tiny.links["length_m"].to_numpy() / 1000)


def test_cli_writes_the_geopackage(tmp_path: Path, capsys) -> None:
    out = tmp_path / "roads.gpkg"
    assert cli_main(["import-osm", str(TINY), "--out", str(out), "--crs", "EPSG:32719"]) == 0
    assert "12 directed links" in capsys.readouterr().out
    assert {str(n) for n in pyogrio.list_layers(out)[:, 0]} == {"nodes", "links", "signals"}
    links = gpd.read_file(out, layer="links")
    contract = ["link_id", "a_node", "b_node", "length_m", "lanes", "free_speed_kmh"]
    contract += ["capacity_vph", "link_type", "name", "signal_id", "geometry"]
    assert list(links.columns) == contract
    assert links.crs.to_epsg() == 32719
    nodes = gpd.read_file(out, layer="nodes")
    assert list(nodes.columns) == ["node_id", "is_centroid", "zone_id", "signal_id", "geometry"]


def test_cli_rejects_a_geographic_crs_and_unknown_files(tmp_path: Path, capsys) -> None:
    out = str(tmp_path / "x.gpkg")
    assert cli_main(["import-osm", str(TINY), "--out", out, "--crs", "EPSG:4326"]) == 2
    assert "not a projected CRS in metres" in capsys.readouterr().err
    bad = tmp_path / "roads.shp"
    bad.write_text("x")
    with pytest.raises(UsageError, match=r"allowed: \.osm, \.osm\.pbf, \.graphml"):
        osm.import_osm(bad)
    broken = tmp_path / "broken.osm"
    broken.write_text("<osm><node id='1'")
    with pytest.raises(GeodataError, match="not a readable OSM XML"):
        osm.import_osm(broken)


def _osmnx_graph(path: Path) -> None:
    """Write a small graph as osmnx saves one: directed, both directions of two-way roads."""
    g = nx.MultiDiGraph(crs="epsg:4326")
    for n, (lon, lat) in LONLAT.items():
        g.add_node(n, x=lon, y=lat, street_count=3)
    g.nodes[5]["highway"] = "traffic_signals"
    ring = [(1, 2), (2, 3), (3, 6), (6, 5), (5, 4), (4, 1)]
    for a, b in ring:
        for u, v in ((a, b), (b, a)):
            g.add_edge(u, v, osmid=100, highway="residential", oneway=False, reversed=u > v)
    for u, v in ((3, 6), (6, 3)):
        g.edges[u, v, 0]["lanes"] = "3"
    wkt = "LINESTRING (-71.249 -29.901, -71.2491 -29.9005, -71.249 -29.9)"  # drawn 5 -> 2
    g.add_edge(2, 5, osmid=103, highway="['tertiary', 'residential']", lanes="['2', '3']",
               maxspeed="50", oneway=True, name="Calle Centro", geometry=wkt)  # fmt: skip
    g.add_edge(5, 8, osmid=105, highway="footway", oneway=False)
    g.add_node(8, x=-71.249, y=-29.902)
    nx.write_graphml(g, path)


def test_graphml_import(tmp_path: Path) -> None:
    path = tmp_path / "city.graphml"
    _osmnx_graph(path)
    layer = osm.import_osm(path)
    assert layer.crs.to_epsg() == 32719
    assert len(layer.links) == 13  # 12 ring edges + 2 -> 5; the footway is dropped
    assert 8 not in layer.nodes.index
    centre = _link(layer, 2, 5)
    assert centre["link_type"] == "tertiary"  # first of osmnx's list
    assert (centre["lanes"], centre["free_speed_kmh"], centre["capacity_vph"]) == (2, 50, 1400)
    # the stored geometry is reversed to run from node 2 to node 5
    assert len(centre.geometry.coords) == 3
    assert layer.nodes.geometry.loc[2].distance(centre.geometry.interpolate(0)) < 1e-6
    ring = _link(layer, 1, 2)
    assert (ring["lanes"], ring["free_speed_kmh"]) == (1, 30)
    # a two-way lanes=3 road: the drawn direction gets 2 lanes, the reversed edge 1
    assert (_link(layer, 3, 6)["lanes"], _link(layer, 6, 3)["lanes"]) == (2, 1)
    assert ring["length_m"] == pytest.approx(_geodesic_m(1, 2), rel=2e-3)
    assert list(layer.signals["node_id"]) == [5]
    assert (layer.links.loc[layer.links["b_node"] == 5, "signal_id"] == 1).all()


def test_pbf_needs_osmium_or_matches_the_xml(tmp_path: Path, tiny: osm.RoadLayer) -> None:
    pbf = tmp_path / "tiny.osm.pbf"
    try:
        import osmium
    except ImportError:
        pbf.write_bytes(b"\0")
        with pytest.raises(GeodataError, match="needs the 'osmium' package"):
            osm.import_osm(pbf)
        return
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(TINY)):
            writer.add(obj)
    layer = osm.import_osm(pbf)
    cols = ["a_node", "b_node", "lanes", "free_speed_kmh", "capacity_vph", "signal_id"]
    assert layer.links[cols].equals(tiny.links[cols])
    np.testing.assert_allclose(layer.links["length_m"], tiny.links["length_m"], rtol=1e-6)


@pytest.mark.parametrize(
    ("value", "kmh"),
    [("50", 50.0), ("30 mph", 48.28032), ("50;30", 50.0), ("none", None), ("CL:urban", None)],
)
def test_parse_speed(value: str, kmh: float | None) -> None:
    assert osm_tags.parse_speed(value) == (pytest.approx(kmh) if kmh else None)


def test_tag_rules() -> None:
    assert osm_tags.directions({"highway": "motorway"}) == (True, False)
    assert osm_tags.directions({"highway": "motorway", "oneway": "no"}) == (True, True)
    assert osm_tags.directions({"highway": "primary", "junction": "roundabout"}) == (True, False)
    assert osm_tags.directions({"highway": "primary", "oneway": "-1"}) == (False, True)
    tags = {"highway": "primary", "lanes": "3"}
    assert osm_tags.link_attributes(tags, "forward", True)[0] == 2
    assert osm_tags.link_attributes(tags, "backward", True)[0] == 1
    assert osm_tags.link_attributes({**tags, "lanes:backward": "2"}, "backward", True)[0] == 2
    assert not osm_tags.is_drivable({"highway": "service"})
    assert not osm_tags.is_drivable({"highway": "primary", "motor_vehicle": "no"})
    assert osm_tags.is_drivable({"highway": "residential", "access": "no", "motorcar": "yes"})
    assert osm.utm_crs(116.4, 39.9).to_epsg() == 32650  # Beijing
