"""Whole streets from one clicked link (sim.traffic.streets), on the default city.

Expectations come from networkx over the raw link table (connected components of the
street's name) and from the link lengths, not from the module's own code.
"""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest

from sim import settings
from sim.city import load_city
from sim.traffic.streets import describe_links, street_links

NAME = "Camino Ovalle La Serena"


@pytest.fixture(scope="module")
def links() -> pd.DataFrame:
    """The default city's links."""
    if not settings.default_city.exists():
        pytest.skip("the default city is not built")
    return load_city(settings.default_city).links


def test_a_clicked_piece_grows_into_the_whole_street_both_ways(links: pd.DataFrame) -> None:
    street = links[links["name"] == NAME]
    clicked = int(street["length_m"].idxmin())  # a short piece, as a click would hit
    got = set(street_links(links, clicked))
    graph = nx.Graph()
    for lid, a, b in zip(street.index, street["a_node"], street["b_node"], strict=True):
        graph.add_edge(("n", a), ("l", lid))
        graph.add_edge(("n", b), ("l", lid))
    component = nx.node_connected_component(graph, ("l", clicked))
    by_nodes = {lid for kind, lid in component if kind == "l"}
    assert by_nodes <= got  # everything connected through shared nodes
    assert got <= set(street.index)  # nothing of another name
    pairs = set(zip(links["a_node"], links["b_node"], strict=True))
    for lid in got:  # every direction that exists is in
        a, b = links.loc[lid, ["a_node", "b_node"]]
        if (b, a) in pairs:
            twins = links.index[(links["a_node"] == b) & (links["b_node"] == a)]
            assert set(twins) & got
    summary = describe_links(links, sorted(got))
    assert summary.names == (NAME,) and summary.both_directions
    total = links.loc[sorted(got), "length_m"].sum()
    assert total / 2 - 1 <= summary.length_m <= total  # both ways drawn once, not twice


def test_one_piece_is_one_direction_and_its_own_length(links: pd.DataFrame) -> None:
    street = links[links["name"] == NAME]
    one = int(street.index[0])
    summary = describe_links(links, [one])
    assert summary.length_m == pytest.approx(float(links.loc[one, "length_m"]))
    assert not summary.both_directions


def test_an_unnamed_link_is_itself_and_its_reverse(links: pd.DataFrame) -> None:
    unnamed = links[links["name"].fillna("") == ""]
    pairs = set(zip(links["a_node"], links["b_node"], strict=True))
    lid = next(
        i
        for i, a, b in zip(unnamed.index, unnamed["a_node"], unnamed["b_node"], strict=True)
        if (b, a) in pairs
    )
    got = street_links(links, lid)
    a, b = links.loc[lid, ["a_node", "b_node"]]
    assert len(got) == 2 and lid in got
    other = next(i for i in got if i != lid)
    assert tuple(links.loc[other, ["a_node", "b_node"]]) == (b, a)


def test_unknown_link_is_a_key_error(links: pd.DataFrame) -> None:
    with pytest.raises(KeyError):
        street_links(links, -5)
