"""TNTP readers and the Network builders (TNTP files and the city's link/node tables)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import GeodataError, InputDataError
from sim.traffic import tntp
from sim.traffic.network import network_from_links, network_from_tntp

TNTP = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "tntp"
SF = TNTP / "SiouxFalls" / "SiouxFalls"
CHICAGO = TNTP / "Chicago-Sketch" / "ChicagoSketch"

NET_HEADER = """<NUMBER OF ZONES> 2
<NUMBER OF NODES> 3
<FIRST THRU NODE> 3
<NUMBER OF LINKS> 2
<END OF METADATA>
~ init term cap len fft b power speed toll type ;
"""


@pytest.fixture(scope="module")
def sioux_falls() -> Path:
    if not (SF.parent / "SiouxFalls_net.tntp").exists():
        pytest.skip("shared TNTP benchmarks not available")
    return SF


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_sioux_falls_net(sioux_falls):
    meta, links = tntp.read_net(f"{sioux_falls}_net.tntp")
    assert meta["NUMBER OF NODES"] == "24"
    assert list(links.columns) == list(tntp.NET_COLUMNS)
    assert len(links) == 76
    first = links.iloc[0]
    assert (first.init_node, first.term_node) == (1, 2)
    assert first.capacity == pytest.approx(25900.20064)
    assert (first.free_flow_time, first.b, first.power) == (6.0, 0.15, 4.0)
    assert links.init_node.dtype == np.int64


def test_read_sioux_falls_trips(sioux_falls):
    trips = tntp.read_trips(f"{sioux_falls}_trips.tntp")
    assert trips.shape == (24, 24)
    assert trips.sum() == pytest.approx(360600.0)  # <TOTAL OD FLOW>
    assert trips[0, 1] == 100.0
    assert trips[0, 9] == 1300.0
    assert np.all(np.diag(trips) == 0)


def test_read_nodes_and_flow(sioux_falls):
    nodes = tntp.read_nodes(f"{sioux_falls}_node.tntp")
    assert len(nodes) == 24
    assert nodes.loc[1, "x"] == pytest.approx(-96.77041974)
    flow = tntp.read_flow(f"{sioux_falls}_flow.tntp")
    assert len(flow) == 76
    assert flow.volume.iloc[0] == pytest.approx(4494.6576464564205)


def test_chicago_metadata_and_zero_free_flow_times():
    if not (CHICAGO.parent / "ChicagoSketch_net.tntp").exists():
        pytest.skip("shared TNTP benchmarks not available")
    net = network_from_tntp(f"{CHICAGO}_net.tntp")
    assert (net.n_nodes, net.n_links, net.n_zones) == (933, 2950, 387)
    assert net.first_thru_node == 0  # <FIRST THRU NODE> 1: every node passable
    assert (net.fftime == 0).sum() > 0
    trips = tntp.read_trips(f"{CHICAGO}_trips.tntp")
    assert trips.sum() == pytest.approx(1260907.4400005303)


def test_network_csr_lists_each_link_under_its_tail(sioux_falls):
    net = network_from_tntp(f"{sioux_falls}_net.tntp")
    assert net.out_start[-1] == net.n_links
    seen = []
    for u in range(net.n_nodes):
        out = net.out_links[net.out_start[u] : net.out_start[u + 1]]
        assert np.all(net.link_from[out] == u)
        assert np.all(np.diff(out) > 0)  # input order within a node
        seen.extend(out)
    assert sorted(seen) == list(range(net.n_links))
    assert list(net.node_ids[:3]) == [1, 2, 3]
    assert net.link_from.dtype == np.int32


def test_first_thru_node_is_zero_based(tmp_path):
    body = "1 3 10 1 1 0.15 4 0 0 1 ;\n3 2 10 1 1 0.15 4 0 0 1 ;\n"
    net = network_from_tntp(_write(tmp_path, "t_net.tntp", NET_HEADER + body))
    assert net.first_thru_node == 2
    assert list(net.zone_nodes) == [0, 1]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("1 3 10 1 1 0.15 4 0 0 ;\n3 2 10 1 1 0.15 4 0 0 1 ;\n", "line 7: 9 fields"),
        ("1 3 10 x 1 0.15 4 0 0 1 ;\n3 2 10 1 1 0.15 4 0 0 1 ;\n", "line 7: non-numeric"),
        ("1 3 10 1 1 0.15 4 0 0 1 ;\n", "1 link lines but <NUMBER OF LINKS> is 2"),
        ("1 3 10 1 1 0.15 4 0 0 1 ;\n3 9 10 1 1 0.15 4 0 0 1 ;\n", "outside 1..3"),
        ("1 3 0 1 1 0.15 4 0 0 1 ;\n3 2 10 1 1 0.15 4 0 0 1 ;\n", "capacity 0.0; allowed: > 0"),
        ("1 3 10 1 -1 0.15 4 0 0 1 ;\n3 2 10 1 1 0.15 4 0 0 1 ;\n", "free-flow time -1.0"),
    ],
)
def test_malformed_net_files_name_file_line_and_problem(tmp_path, body, needle):
    path = _write(tmp_path, "bad_net.tntp", NET_HEADER + body)
    with pytest.raises(GeodataError) as err:
        network_from_tntp(path)
    assert needle in str(err.value)
    assert "bad_net.tntp" in str(err.value)


def test_net_file_without_metadata_end(tmp_path):
    path = _write(tmp_path, "x_net.tntp", "<NUMBER OF ZONES> 2\n1 2 3 ;\n")
    with pytest.raises(GeodataError, match="no <END OF METADATA>"):
        tntp.read_net(path)
    with pytest.raises(GeodataError, match="TNTP file not found"):
        tntp.read_net(tmp_path / "missing_net.tntp")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("1 : 5.0;\n", "before any 'Origin'"),
        ("Origin 1\n 2 : 5.0; 3 : 1.0;\n", "zone 3 outside 1..2"),
        ("Origin 1\n 2 : -5.0;\n", "must be finite and >= 0"),
        ("Origin 1\n 2 = 5.0;\n", "is not 'destination : flow'"),
        ("Origin one\n", "expected 'Origin N'"),
    ],
)
def test_malformed_trip_files(tmp_path, body, needle):
    path = _write(tmp_path, "bad_trips.tntp", "<NUMBER OF ZONES> 2\n<END OF METADATA>\n" + body)
    with pytest.raises(InputDataError, match=needle):
        tntp.read_trips(path)


def test_trip_entries_across_lines(tmp_path):
    text = (
        "<NUMBER OF ZONES> 2\n<END OF METADATA>\nOrigin 1\n 1 : 0.0; 2 : 7.5;\nOrigin 2\n 1 : 2;\n"
    )
    trips = tntp.read_trips(_write(tmp_path, "t_trips.tntp", text))
    np.testing.assert_array_equal(trips, [[0.0, 7.5], [2.0, 0.0]])


def _city_tables():
    nodes = pd.DataFrame({"x": [0, 1, 2, 3]}, index=pd.Index([10, 20, 30, 40], name="node_id"))
    links = pd.DataFrame(
        {
            "a_node": [10, 20, 30, 40],
            "b_node": [20, 30, 40, 10],
            "length_m": [1000.0, 500.0, 0.0, 2000.0],
            "capacity_vph": [1800.0, 900.0, 1800.0, 3600.0],
            "free_speed_kmh": [60.0, 30.0, 50.0, 120.0],
        },
        index=pd.Index([7, 8, 9, 11], name="link_id"),
    )
    return links, nodes


def test_network_from_links_puts_centroids_first():
    links, nodes = _city_tables()
    net = network_from_links(links, nodes, zone_centroids=[30, 10])
    assert list(net.node_ids) == [30, 10, 20, 40]
    assert net.first_thru_node == 2
    assert list(net.zone_nodes) == [0, 1]
    assert list(net.node_ids[net.link_from]) == [10, 20, 30, 40]  # link order kept
    np.testing.assert_allclose(net.fftime, [1.0, 1.0, 0.0, 1.0])  # minutes
    np.testing.assert_allclose(net.length, [1.0, 0.5, 0.0, 2.0])  # km
    np.testing.assert_allclose(net.alpha, 0.15)
    np.testing.assert_allclose(net.beta, 4.0)
    np.testing.assert_allclose(net.toll, 0.0)


def test_network_from_links_optional_columns():
    links, nodes = _city_tables()
    links = links.assign(toll=[0.0, 2.0, 0.0, 0.0], alpha=0.5, beta=2.0)
    net = network_from_links(links, nodes, zone_centroids=[10])
    np.testing.assert_allclose(net.toll, [0.0, 2.0, 0.0, 0.0])
    np.testing.assert_allclose(net.alpha, 0.5)
    np.testing.assert_allclose(net.beta, 2.0)


@pytest.mark.parametrize(
    ("edit", "centroids", "needle"),
    [
        (lambda df: df.drop(columns="capacity_vph"), [10], "missing column"),
        (lambda df: df.assign(b_node=[20, 30, 40, 99]), [10], "b_node 99"),
        (lambda df: df.assign(free_speed_kmh=[60.0, 0.0, 1.0, 1.0]), [10], "free_speed_kmh 0.0"),
        (lambda df: df, [10, 10], "more than one zone"),
        (lambda df: df, [55], "node 55 is not in the nodes table"),
    ],
)
def test_network_from_links_errors(edit, centroids, needle):
    links, nodes = _city_tables()
    with pytest.raises(GeodataError, match=needle):
        network_from_links(edit(links), nodes, zone_centroids=centroids)
