"""The compare view judges only KPIs with an agreed direction; counts and diagnostics apart.

KPIs read as labels with units and thousands separators; population is "more", never
green; the solver's gap sits in its own table; side-by-side maps pan and zoom together.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from gui import i18n
from gui.background import cached_city
from gui.compare import CompareView
from gui.linkedmaps import MapGrid, MapPanel
from gui.tables import cell_text
from sim import settings
from sim.runs.compare import kpi_table

GREEN_RED = {"#c8efc8", "#f7c6c6"}  # the view's green and red


def _run(values: dict[str, float]) -> SimpleNamespace:
    nan = float("nan")
    p50 = list(values.values())
    summary = pd.DataFrame({"year": 2030, "kpi": list(values), "p10": nan, "p50": p50, "p90": nan})
    schools = pd.DataFrame({"school_id": ["P1", "J1"], "name": ["Escuela Uno", "Liceo Uno"]})
    return SimpleNamespace(kpis_summary=summary, manifest={"end_year": 2030}, schools=schools)


def _columns(table) -> list[str]:
    return [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]


@pytest.fixture
def view(qtbot, tmp_path) -> CompareView:
    base = _run({"population": 451_500.0, "rel_gap": 1e-3, "assignment_iterations": 9.0,
                 "vkt": 100.0, "overflow_pupils": 40.0})  # fmt: skip
    variant = _run({"population": 452_000.0, "rel_gap": 1e-5, "assignment_iterations": 30.0,
                    "vkt": 80.0, "overflow_pupils": 60.0})  # fmt: skip
    labels = ["base", "variant"]
    pressure = pd.DataFrame(
        {"school_id": ["P1", "J1"], "base": [0.94, 0.5], "variant": [1.02, 0.5]}
    ).assign(**{"change variant": [0.08, 0.0]})
    comp = SimpleNamespace(
        kpis=kpi_table([base, variant], labels),
        labels=labels,
        enrollment=pressure,
        runs=[base, variant],
    )
    widget = CompareView(tmp_path)
    qtbot.addWidget(widget)
    widget.comparison = comp
    widget.show_tables()
    return widget


def test_counts_and_diagnostics_stay_uncoloured(view) -> None:
    assert view.kpi_verdicts() == {
        "population": "up",
        "overflow_pupils": "worse",
        "vkt": "better",
        "rel_gap": "",
        "assignment_iterations": "",
    }
    table = view.kpis
    cols = _columns(table)
    assert cols[:4] == ["Indicator", "Unit", "base (baseline)", "variant"]
    names = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert names == ["Population", "Pupils placed outside their catchment school", "Peak-hour VKT"]
    pop = names.index("Population")
    assert cell_text(table, pop, 1) == "persons"
    assert cell_text(table, pop, 2) == "451,500"  # never 4.515e+05
    assert cell_text(table, pop, cols.index("Δ variant")) == "+500"
    assert cell_text(table, pop, cols.index("variant vs baseline")) == "more"
    coloured = {
        names[r]
        for r in range(table.rowCount())
        if table.item(r, cols.index("Δ variant")).background().color().name() in GREEN_RED
    }
    assert coloured == {"Peak-hour VKT", "Pupils placed outside their catchment school"}
    assert "(veh·km)" in table.item(names.index("Peak-hour VKT"), 0).toolTip()
    # diagnostics apart, with no verdict column
    diag = [view.diagnostics.item(r, 0).text() for r in range(view.diagnostics.rowCount())]
    assert diag == ["Assignment relative gap", "Assignment iterations"]
    assert _columns(view.diagnostics) == ["Indicator", "Unit", "base (baseline)", "variant"]


def test_school_pressure_has_names_and_percentages(view) -> None:
    table = view.schools
    cols = _columns(table)
    assert cols == ["School", "Name", "Utilisation base", "Utilisation variant", "Δ variant"]
    rows = {cell_text(table, r, 0): r for r in range(table.rowCount())}
    assert cell_text(table, rows["P1"], 1) == "Escuela Uno"
    assert cell_text(table, rows["P1"], 3) == "102 %"
    assert cell_text(table, rows["P1"], 4) == "+8 %"


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # no CJK font needed
def test_tables_switch_to_chinese_and_back(view) -> None:
    i18n.set_language("zh", cjk_font=True)
    view.retranslate()
    cols = _columns(view.kpis)
    assert cols[:2] == ["指标", "单位"] and "variant 相比基准" in cols
    texts = {
        view.kpis.item(r, c).text()
        for r in range(3)
        for c in (0, 1, cols.index("variant 相比基准"))
    }
    assert {"人口", "人", "增加", "更好", "更差"} <= texts
    i18n.set_language("en", cjk_font=False)
    view.retranslate()
    assert _columns(view.kpis)[:2] == ["Indicator", "Unit"]
    assert view.kpis.item(0, 0).text() == "Population"


def test_side_by_side_maps_pan_and_zoom_together(qtbot) -> None:
    if not settings.default_city.exists():
        pytest.skip("the default city is not built")
    city = cached_city(settings.default_city)
    grid = MapGrid()
    qtbot.addWidget(grid)
    grid.resize(1000, 700)
    grid.show()
    schools = pd.DataFrame(
        {
            "x": city.schools.geometry.x,
            "y": city.schools.geometry.y,
            "level": city.schools["level"],
            "name": city.schools["name"],
        }
    )
    vc = pd.Series(0.5, index=city.links.index)
    panels = [MapPanel(t, vc, schools, None) for t in ("base", "variant", "third")]
    grid.set_panels(city, panels, label="V/C")
    assert [c.isVisible() for c in grid.cells] == [True, True, True, False]
    assert [t.text() for t in grid.titles[:3]] == ["base", "variant", "third"]
    minx, miny, maxx, maxy = city.zones.total_bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    grid.maps[1].set_view_limits((cx - 2000, cx + 2000), (cy - 2000, cy + 2000))  # zoom in one
    for other in (grid.maps[0], grid.maps[2]):
        (x0, x1), (y0, y1) = other.view_limits()
        assert x0 < cx < x1 and y0 < cy < y1
        assert x1 - x0 < 0.5 * (maxx - minx)  # zoomed in too, not the whole city
