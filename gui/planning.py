"""The "Plan schools" panel: recommended new school sites, drawn on the map, one click to add.

The siting MILP (:func:`sim.education.planning.plans.site_schools`) re-simulates the run's
scenario, so it runs in a separate process (numba and HiGHS hold the GIL); a timer polls
it, and the window stays responsive.
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.document import ScenarioDocument
from gui.i18n import ZH, tr
from gui.mapview import MapView

ZH.update(
    {
        "Plan schools": "规划学校",
        "Plan new schools (规划新建学校)": "规划新建学校",
        "Plan from run: {run}": "规划所依据的运行：{run}",
        "Level": "学段",
        "New schools (budget)": "新建学校数（预算）",
        "Candidate sites": "候选地点",
        "development sites and zone centroids": "开发地块与小区中心",
        "Choose file…": "选择文件…",
        "Farthest zone (km, 0 = any)": "最远小区（公里，0 = 不限）",
        "Find sites": "寻找地点",
        "Add to scenario": "加入情景",
        "Solving… (re-simulating the scenario)": "求解中…（重新模拟情景）",
        "{n} sites; seats short now {short:g} pupil-years; gap {gap:.1%}": (
            "{n} 个地点；当前学位缺口 {short:g} 人·年；最优性差距 {gap:.1%}"
        ),
        "Added {n} new schools to the scenario.": "已向情景加入 {n} 所新学校。",
        "site": "地点",
        "classes/grade": "每年级班数",
        "places": "学位",
    }
)
POLL_MS = 200


def _solve(run_dir: str, level: str, budget: int, candidates: str | None, max_km: float) -> dict:
    """In the worker process: the site-schools result (no --verify: quick)."""
    from sim.education.planning.plans import site_schools

    return site_schools(
        Path(run_dir),
        level,
        budget,
        candidates_file=Path(candidates) if candidates else None,
        max_km=max_km or None,
    )


class PlanSchoolsPanel(QWidget):
    """Budget, level and candidates in; recommended sites and their catchments out.

    Signals
    -------
    planReady(dict)
        The site-schools result, when a solve finishes.
    failed(str)
        A solve failed (the message).
    """

    planReady = Signal(dict)
    failed = Signal(str)

    def __init__(self, doc: ScenarioDocument, mapview: MapView, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = doc
        self.map = mapview
        self.run_dir: Path | None = None
        self.candidates: Path | None = None
        self.result: dict[str, Any] | None = None
        self._future: Future | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._artists: list[Any] = []
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold; font-size: 14px")
        self.run_label = QLabel()
        self.run_label.setWordWrap(True)
        self.level = QComboBox()
        for level in ("primary", "junior"):
            self.level.addItem(level, level)
        self.budget = QSpinBox()
        self.budget.setRange(1, 10)
        self.budget.setValue(2)
        self.max_km = QDoubleSpinBox()
        self.max_km.setRange(0.0, 50.0)
        self.max_km.setValue(3.0)
        self.cand_label = QLabel()
        self.cand_button = QPushButton()
        self.cand_button.clicked.connect(self.choose_candidates)
        cand = QHBoxLayout()
        cand.addWidget(self.cand_label, 1)
        cand.addWidget(self.cand_button)
        self.solve_button = QPushButton()
        self.solve_button.clicked.connect(self.start)
        self.add = QPushButton()
        self.add.setEnabled(False)
        self.add.clicked.connect(self.add_to_scenario)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.verticalHeader().setVisible(False)
        self._form = QFormLayout()
        self._labels = [QLabel() for _ in range(4)]
        self._form.addRow(self._labels[0], self.level)
        self._form.addRow(self._labels[1], self.budget)
        self._form.addRow(self._labels[2], cand)
        self._form.addRow(self._labels[3], self.max_km)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.run_label)
        layout.addLayout(self._form)
        layout.addWidget(self.solve_button)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.add)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        self.retranslate()

    def retranslate(self) -> None:
        """Re-apply translated labels."""
        self.title.setText(tr("Plan new schools (规划新建学校)"))
        for i, text in enumerate(
            ("Level", "New schools (budget)", "Candidate sites", "Farthest zone (km, 0 = any)")
        ):
            self._labels[i].setText(tr(text))
        for i in range(self.level.count()):
            self.level.setItemText(i, tr(self.level.itemData(i)))
        self.cand_label.setText(
            self.candidates.name if self.candidates else tr("development sites and zone centroids")
        )
        self.cand_button.setText(tr("Choose file…"))
        self.solve_button.setText(tr("Find sites"))
        self.add.setText(tr("Add to scenario"))
        self.table.setHorizontalHeaderLabels(
            [tr("site"), tr("classes/grade"), tr("places"), tr("zones")]
        )
        name = self.run_dir.name if self.run_dir else tr("none (run a scenario first)")
        self.run_label.setText(tr("Plan from run: {run}").format(run=name))

    def set_run(self, run_dir: Path | None) -> None:
        """Plan from ``run_dir`` (a finished run folder)."""
        self.run_dir = Path(run_dir) if run_dir else None
        self.retranslate()

    def choose_candidates(self, path: Path | str | None = None) -> None:
        """A candidates CSV (id,x,y or id,lon,lat); asked for when ``path`` is None."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, tr("Candidate sites"), "", "CSV (*.csv)")
        self.candidates = Path(path) if path else None
        self.retranslate()

    def start(self) -> None:
        """Start the solve in a worker process."""
        if self.run_dir is None or self._future is not None:
            return
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"))
        self._future = self._pool.submit(
            _solve,
            str(self.run_dir),
            self.level.currentData(),
            self.budget.value(),
            str(self.candidates) if self.candidates else None,
            self.max_km.value(),
        )
        self.solve_button.setEnabled(False)
        self.add.setEnabled(False)
        self.status.setText(tr("Solving… (re-simulating the scenario)"))
        self._timer.start()

    @property
    def busy(self) -> bool:
        """A solve is running."""
        return self._future is not None

    def poll(self) -> None:
        """Pick up the worker's result when it is there."""
        if self._future is None or not self._future.done():
            return
        self._timer.stop()
        future, self._future = self._future, None
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
        self.solve_button.setEnabled(True)
        try:
            result = future.result()
        except Exception as exc:  # CitySandboxError or a bug in the worker: show it
            self.status.setText(str(exc))
            self.failed.emit(str(exc))
            return
        self.show_result(result)

    def show_result(self, result: dict[str, Any]) -> None:
        """Fill the table, draw the sites and their catchments, enable "Add"."""
        self.result = result
        sites = result.get("sites", [])
        self.table.setRowCount(len(sites))
        for r, site in enumerate(sites):
            cells = (site["candidate"], site["classes_per_grade"], site["places"], site["zones"])
            for c, value in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(str(value)))
        self.status.setText(
            tr("{n} sites; seats short now {short:g} pupil-years; gap {gap:.1%}").format(
                n=len(sites), short=result["seats_short_baseline"], gap=result["optimality_gap"]
            )
        )
        self.add.setEnabled(bool(result.get("policies")))
        self.draw()
        self.planReady.emit(result)

    def draw(self) -> None:
        """The recommended sites (stars) and the zones each takes over (outlined) on the map."""
        for artist in self._artists:
            artist.remove()
        self._artists = []
        city = getattr(self.map, "city", None)
        if self.result is None or city is None:
            return
        for geom in catchment_outlines(city, self.run_dir, self.result):
            for poly in getattr(geom, "geoms", [geom]):
                (line,) = self.map.ax.plot(*poly.exterior.xy, color="0.25", lw=1.0, zorder=5)
                self._artists.append(line)
        colours = ("tab:green", "tab:purple", "tab:cyan", "tab:brown", "tab:pink")
        for i, site in enumerate(self.result.get("sites", [])):
            colour = colours[i % len(colours)]
            zones = city.zones.loc[city.zones.index.isin(site["zones"])]
            for geom in zones.geometry:
                for poly in getattr(geom, "geoms", [geom]):
                    (line,) = self.map.ax.plot(*poly.exterior.xy, color=colour, lw=2.5, zorder=6)
                    self._artists.append(line)
            (star,) = self.map.ax.plot(
                [site["xy"][0]], [site["xy"][1]], marker="*", ms=20, color=colour,
                mec="black", zorder=8,
            )  # fmt: skip
            self._artists.append(star)
        self.map.canvas.draw_idle()

    def add_to_scenario(self) -> int:
        """Add the recommended ``new_school`` policies to the scenario; how many."""
        policies = (self.result or {}).get("policies", [])
        for pol in policies:
            self.doc.add_policy(dict(pol))
        if policies:
            self.status.setText(
                tr("Added {n} new schools to the scenario.").format(n=len(policies))
            )
            self.add.setEnabled(False)
        return len(policies)


def catchment_outlines(city: Any, run_dir: Path | None, result: dict[str, Any]) -> list[Any]:
    """Catchment boundaries of the plan's level in its year, with the plan's zones moved."""
    import pandas as pd

    if run_dir is None or not (run_dir / "catchments.parquet").is_file():
        return []
    table = pd.read_parquet(run_dir / "catchments.parquet")
    rows = table[(table["level"] == result["level"]) & (table["year"] <= result["year"])]
    if rows.empty:
        return []
    rows = rows[rows["year"] == rows["year"].max()]
    school = rows.set_index("zone_id")["school_id"].to_dict()
    for site in result.get("sites", []):
        school.update(dict.fromkeys(site["zones"], site["id"]))
    zones = city.zones.assign(school=[school.get(z, "") for z in city.zones.index])
    return list(zones.dissolve(by="school").geometry)
