"""The compare difference map: line width by |Δflow| in round veh/h classes, colour by sign."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb

from gui import map_draw as draw
from gui.background import cached_city
from gui.mapview import MapView
from sim import settings


def test_change_classes_are_round_steps_to_the_largest_change() -> None:
    change = draw.flow_change_classes(np.array([-1900.0, -300.0, 0.4, np.nan, 500.0, 501.0]))
    # 1900 / 4 classes = 475 per class -> the next round step is 500 (1, 2, 2.5, 5 × 10^k)
    assert change.bounds.tolist() == [1.0, 500.0, 1000.0, 1500.0, 2000.0]
    assert change.size.tolist() == [4, 1, 0, 0, 1, 2]  # 500 closes the first class
    assert change.sign.tolist() == [-1, -1, 0, 0, 1, 1]


@pytest.fixture(scope="module")
def city():
    if not settings.default_city.exists():
        pytest.skip("the default city is not built")
    return cached_city(settings.default_city)


def test_widths_grow_with_the_change_and_colours_follow_its_sign(
    qtbot, city, screenshots: Path
) -> None:
    mapview = MapView()
    qtbot.addWidget(mapview)
    mapview.resize(1000, 800)
    mapview.show()
    mapview.set_city(city)
    roads = mapview.roads
    chosen = [r for r in range(len(roads.segments)) if len(roads.segments[r]) >= 3][:6]
    deltas = [-1600.0, -300.0, 0.4, 700.0, 1200.0, 1900.0]
    base = pd.Series(500.0, index=city.links.index)
    variant = base.copy()
    for road, delta in zip(chosen, deltas, strict=True):
        variant[roads.links_of(road)[0]] += delta  # one direction: the road's sum changes
    mapview.set_road_values(variant - base, label="flow change", how="sum", diverging=True)
    patches = [a for a in mapview._artists["roads"] if hasattr(a, "get_path")]

    def drawn(road: int):
        """The patch that draws exactly this road (each changed road is alone in its class)."""
        verts = roads.segments[road]
        return next(
            (
                p
                for p in patches
                if len(p.get_path().vertices) == len(verts)
                and np.allclose(p.get_path().vertices, verts)
            ),
            None,
        )

    grey = max(patches, key=lambda p: len(p.get_path().vertices))  # the unchanged rest
    assert drawn(chosen[2]) is None  # 0.4 veh/h is no change: drawn with the grey rest
    changed = [(abs(d), d, drawn(r)) for r, d in zip(chosen, deltas, strict=True) if abs(d) >= 1]
    assert all(p is not None for _, _, p in changed)
    widths = [p.get_linewidth() for _, _, p in sorted(changed, key=lambda c: c[0])]
    assert widths == sorted(widths) and widths[0] < widths[-1]  # monotone in |Δ|
    assert len(set(widths)) == 4  # 300, 700, 1200 and 1600/1900 fall in 4 classes
    assert grey.get_linewidth() < widths[0]
    for _, delta, patch in changed:
        r, _, b = to_rgb(patch.get_edgecolor())
        assert (r > b) if delta > 0 else (b > r)  # increase red, decrease blue
    r, g, b = to_rgb(grey.get_edgecolor())
    assert r == pytest.approx(g) == pytest.approx(b)  # no change: grey
    legend = mapview.ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()][:4] == [
        "1–500 veh/h",
        "500–1,000 veh/h",
        "1,000–1,500 veh/h",
        "1,500–2,000 veh/h",
    ]
    assert not mapview._road_cax.get_visible()  # a legend instead of a colour bar
    # a picture to look at: a smooth pattern of gains and losses over a third of the roads
    xy = np.array([roads.segments[r][0] for r in range(len(roads.segments))])
    field = 900 * np.sin(xy[:, 0] / 2500.0) * np.cos(xy[:, 1] / 2000.0)
    first = [roads.links_of(r)[0] for r in range(len(roads.segments))]
    pattern = pd.Series(0.0, index=city.links.index)
    pattern[first] = np.where(np.arange(len(first)) % 3 == 0, field, 0.0)
    mapview.set_road_values(pattern, label="flow change, veh/h", how="sum", diverging=True)
    centre = np.array([g.centroid.coords[0] for g in city.zones.geometry])
    grown = pd.Series(300 * np.cos(centre[:, 0] / 3000.0), index=city.zones.index)
    mapview.set_zone_values({"population change": grown}, select="population change")
    mapview.canvas.draw()
    mapview.grab().save(str(screenshots / "compare_difference_map.png"))
    legend = mapview._legend_image
    assert legend is not None and legend.artist is mapview.ax.get_legend()
    mapview.ax.set_xlim(*(np.array(mapview.ax.get_xlim()) + 500.0))  # a pan
    mapview.canvas.draw()
    assert legend.renders == 1  # the legend's picture is reused, its text not laid out again


def test_a_zone_change_gets_a_diverging_scale_centred_on_zero(qtbot, city) -> None:
    mapview = MapView()
    qtbot.addWidget(mapview)
    mapview.set_city(city)
    zones = city.zones.index
    change = pd.Series(np.linspace(-200.0, 50.0, len(zones)), index=zones)
    change.iloc[len(zones) // 2] = 0.0
    mapview.set_zone_values({"population change": change}, select="population change")
    coll = mapview._artists["zones"][0]
    assert coll.get_clim() == pytest.approx((-200.0, 200.0))  # symmetric: 0 in the middle
    r, g, b, _ = coll.to_rgba(np.array([0.0]))[0]
    assert min(r, g, b) > 0.9  # no change is near white, neither gain nor loss
    gain, loss = coll.to_rgba(np.array([150.0, -150.0]))
    assert gain[1] > gain[0] and loss[0] > loss[1]  # gains green, losses purple
    mapview.set_zone_values({"level": change + 500}, select="level")  # all positive: levels
    assert coll.get_clim() == pytest.approx((300.0, 550.0))
