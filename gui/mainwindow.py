"""The main window: map + editor + run panel, results, compare; menus, files, language.

Map clicks mean what the current tool says: inspect a feature (default), place a point
policy, pick roads for a road policy, or choose the home of an enrollment query. With no
tool on, a click on a placed point's marker (a new school...) selects that policy in the
editor and lists its fields as the feature's properties; with a tool on, the tool takes
the click, marker or not (a street under a new school is picked, not the school). Errors a
user can cause (a bad scenario, bad geodata, a failed run) are shown as a dialog with the
message of :mod:`sim.errors`; in headless mode (screenshots) they go to stderr instead.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui import i18n
from gui.background import cached_city, run_and_wait, run_in_background
from gui.compare import CompareView
from gui.document import ScenarioDocument
from gui.editor import POINT_POLICIES, EditorPanel, policy_summary
from gui.explain import ExplainPanel
from gui.fonts import CjkFont
from gui.i18n import policy_label, tr
from gui.layerpanel import LayerPanel
from gui.map_base import basemap_of
from gui.mappolicies import connect_point_drag
from gui.mapview import MapView
from gui.planning import PlanSchoolsPanel
from gui.query import EnrollQueryPanel
from gui.reportjob import cancel_reports
from gui.results import ResultsView
from gui.runlist import RunList
from gui.runpanel import RunPanel
from gui.scenariobrowser import ScenarioBrowser
from gui.scenariofiles import ScenarioFiles, app_settings
from gui.signalpick import nearest_signal
from gui.streetpick import picked_links
from gui.tables import format_value
from gui.workspace import save_workspace
from sim import settings
from sim.city import City
from sim.errors import CitySandboxError
from sim.runs.catalog import Catalog

VIEWS: tuple[str, ...] = ("map", "editor", "results", "compare", "runs", "scenarios")
MAIN_TABS: tuple[str, ...] = ("Map", "Results", "Compare", "Runs")
SIDE_TABS: tuple[str, ...] = (
    "Scenario editor",
    "Run",
    "Enrollment query",
    "Plan schools",
    "Explain",
    "Scenarios",
)
MENU_TEXTS = {"file": "&File", "edit": "&Edit", "run": "&Run", "export": "E&xport", "view": "&View"}
ACTION_TEXTS = {
    "new": "New",
    "open": "Open…",
    "import_city": "Import city…",
    "save": "Save",
    "save_as": "Save As…",
    "read_only": "Read-only (shipped scenario)",
    "quit": "Quit",
    "run": "Run scenario",
    "cancel": "Cancel run",
    "stop_tool": "Stop picking on the map",
    "export_report": "Comparison report (HTML)…",
    "export_figure": "Current figure (PNG/SVG)…",
    "export_tables": "Tables (CSV)…",
    "export_layers": "Layers (GeoPackage)…",
    "cancel_export": "Cancel export",
    "lang_en": "English",
    "lang_zh": "中文",
}


class MainWindow(ScenarioFiles, QMainWindow):
    """The CitySandbox desktop.

    Parameters
    ----------
    runs_folder
        Where runs are written and the catalog lives (default :data:`sim.settings.runs_folder`).
    headless
        Report errors on stderr instead of modal dialogs (for ``--screenshot``).
    cjk_font
        The CJK font installed in the app, or None (then Chinese is not offered).

    Signals
    -------
    reportFinished(path)
        A report export (written in the background, see :meth:`export`) wrote ``path``.
    reportFailed(message)
        A report export failed (the dialog has shown ``message``); nothing was written.
    reportCancelled()
        A report export was cancelled (:meth:`cancel_export`); nothing was written.
    """

    reportFinished = Signal(str)
    reportFailed = Signal(str)
    reportCancelled = Signal()

    def __init__(
        self,
        runs_folder: Path | None = None,
        *,
        headless: bool = False,
        cjk_font: CjkFont | None = None,
    ) -> None:
        super().__init__()
        self.runs_folder = Path(runs_folder or settings.runs_folder)
        self.headless = headless
        self.cjk_font = cjk_font
        self.city: Any = None
        self.tool = ""
        self.last_error = ""
        self.doc = ScenarioDocument(self)
        self.map = MapView()
        self.layers = LayerPanel(self.map)
        self.editor = EditorPanel(self.doc)
        self.run_panel = RunPanel(self.doc, self.runs_folder)
        self.query = EnrollQueryPanel()
        self.planning = PlanSchoolsPanel(self.doc, self.map)
        self.explain = ExplainPanel()
        self.browser = ScenarioBrowser(settings.scenarios_folder)
        self.info = QTableWidget(0, 2)
        self.info.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.info.horizontalHeader().setStretchLastSection(True)
        self.info.verticalHeader().setVisible(False)
        self.side = QTabWidget()
        side_tabs = (self.editor, self.run_panel, self.query, self.planning, self.explain)
        for widget in (*side_tabs, self.browser):
            self.side.addTab(widget, "")
        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(self.side)
        info_box = QWidget()
        self.info_title = QLabel()
        box = QVBoxLayout(info_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.info_title)
        box.addWidget(self.info)
        side.addWidget(info_box)
        side.setSizes([700, 150])
        map_tab = QSplitter()
        map_tab.addWidget(self.layers)
        map_tab.addWidget(self.map)
        map_tab.addWidget(side)
        map_tab.setSizes([150, 820, 430])
        self.results = ResultsView(self.runs_folder)
        self.compare = CompareView(self.runs_folder)
        self.runlist = RunList(self.runs_folder)
        self.tabs = QTabWidget()
        for page in (map_tab, self.results, self.compare, self.runlist):
            self.tabs.addTab(page, "")
        self.setCentralWidget(self.tabs)
        self.run_bar = QProgressBar()  # the run's progress on every tab
        self.run_bar.setRange(0, 1000)
        self.run_bar.setMaximumWidth(180)
        self.run_bar.setVisible(False)
        self.open_results_button = QPushButton()
        self.open_results_button.setVisible(False)
        self.open_results_button.clicked.connect(lambda: self.open_results(self.run_panel.last_run))
        self.statusBar().addPermanentWidget(self.run_bar)
        self.statusBar().addPermanentWidget(self.open_results_button)
        self._report_task: Any = None  # the report export in the background, if any
        self._report_cancelled = False
        self._build_actions()
        self.cancel_export_button = QToolButton()  # shown while a report is being written
        self.cancel_export_button.setDefaultAction(self.actions_["cancel_export"])
        self.cancel_export_button.setVisible(False)
        self.statusBar().addPermanentWidget(self.cancel_export_button)
        self._connect()
        self.retranslate()
        self.resize(1400, 900)

    # ------------------------------------------------------------------ wiring

    def _build_actions(self) -> None:
        self.actions_: dict[str, QAction] = {}

        def act(key: str, slot: Any, shortcut: Any = None) -> QAction:
            action = QAction(self)
            action.triggered.connect(lambda _checked=False: slot())
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            self.actions_[key] = action
            return action

        act("new", self.new_scenario, QKeySequence.StandardKey.New)
        act("open", self.open_scenario, QKeySequence.StandardKey.Open)
        act("import_city", self.import_city)
        act("save", self.save, QKeySequence.StandardKey.Save)
        act("save_as", self.save_as, QKeySequence.StandardKey.SaveAs)
        act("read_only", lambda: self.doc.set_read_only(self.actions_["read_only"].isChecked()))
        self.actions_["read_only"].setCheckable(True)
        act("quit", self.close, QKeySequence.StandardKey.Quit)
        act("run", self.run_panel.start, "Ctrl+R")
        act("cancel", self.run_panel.cancel)
        act("stop_tool", lambda: self.set_tool(""), Qt.Key.Key_Escape)
        self.addAction(self.actions_["stop_tool"])
        self.actions_["undo"] = self.doc.undo_stack.createUndoAction(self)
        self.actions_["undo"].setShortcut(QKeySequence.StandardKey.Undo)
        self.actions_["redo"] = self.doc.undo_stack.createRedoAction(self)
        self.actions_["redo"].setShortcut(QKeySequence.StandardKey.Redo)
        for key in ("export_report", "export_figure", "export_tables", "export_layers"):
            act(key, lambda k=key: self.export(k.removeprefix("export_")))
        act("cancel_export", self.cancel_export)
        self.actions_["cancel_export"].setEnabled(False)
        lang_group = QActionGroup(self)
        for lang in i18n.LANGUAGES:
            action = act(f"lang_{lang}", lambda lg=lang: self.set_language(lg))
            action.setCheckable(True)
            lang_group.addAction(action)
        self.actions_["lang_en"].setChecked(True)
        self.set_cjk_font(self.cjk_font)

        bar = self.menuBar()
        self.menus = {k: bar.addMenu("") for k in ("file", "edit", "run", "export", "view")}
        for key in ("new", "open", "import_city"):
            self.menus["file"].addAction(self.actions_[key])
        self.recent_menu = self.menus["file"].addMenu("")
        for key in ("save", "save_as", "read_only"):
            self.menus["file"].addAction(self.actions_[key])
        self.menus["file"].addSeparator()
        self.menus["file"].addAction(self.actions_["quit"])
        for key in ("undo", "redo"):
            self.menus["edit"].addAction(self.actions_[key])
        for key in ("run", "cancel"):
            self.menus["run"].addAction(self.actions_[key])
        for key in ("export_report", "export_figure", "export_tables", "export_layers"):
            self.menus["export"].addAction(self.actions_[key])
        self.menus["export"].addSeparator()
        self.menus["export"].addAction(self.actions_["cancel_export"])
        self.language_menu = self.menus["view"].addMenu("")
        for lang in i18n.LANGUAGES:
            self.language_menu.addAction(self.actions_[f"lang_{lang}"])

    def _connect(self) -> None:
        self.map.clicked.connect(self.map_clicked)
        connect_point_drag(self.map, self.doc, self.editor.select)  # drag a placed point
        self.map.hovering.point_text = lambda i: policy_summary(self.doc.policies[i], self.city)
        self.editor.pickRequested.connect(self.set_tool)
        self.editor.selectionChanged.connect(lambda _row: self._update_overlays())
        self.query.pickRequested.connect(self.set_tool)
        self.doc.changed.connect(self._doc_changed)
        self.doc.undo_stack.cleanChanged.connect(lambda _clean: self._update_title())
        self.run_panel.runFinished.connect(self._run_finished)
        self.run_panel.progressChanged.connect(self._run_progress)
        self.run_panel.openResults.connect(self.open_results)
        self.run_panel.runFailed.connect(self.error)
        self.results.runLoaded.connect(self._results_loaded)
        self.results.failed.connect(lambda msg: self.error(tr("Cannot read the run."), msg))
        self.tabs.currentChanged.connect(self._tab_changed)
        for name, button in self.compare.export_buttons.items():
            button.clicked.connect(lambda _c=False, n=name: self.export(n))
        self.compare.failed.connect(lambda msg: self.error(tr("Cannot compare."), msg))
        self.runlist.openRequested.connect(self.open_results)
        self.runlist.changed.connect(self.results.refresh_runs)
        self.runlist.changed.connect(self.compare.refresh_runs)
        self.run_panel.runFinished.connect(lambda _run: self.runlist.refresh())
        self.browser.openRequested.connect(self.open_scenario)

    # ------------------------------------------------------------------ language

    def retranslate(self) -> None:
        """Re-apply every label in the current language."""
        for key, text in ACTION_TEXTS.items():
            self.actions_[key].setText(tr(text))
        self.actions_["undo"].setText(tr("Undo"))
        self.actions_["redo"].setText(tr("Redo"))
        for key, text in MENU_TEXTS.items():
            self.menus[key].setTitle(tr(text))
        self.recent_menu.setTitle(tr("Open Recent"))
        self.language_menu.setTitle(tr("Language"))
        if self.cjk_font is None:
            self.actions_["lang_zh"].setToolTip(tr("No CJK font found: Chinese is not available"))
        for i, text in enumerate(SIDE_TABS):
            self.side.setTabText(i, tr(text))
        for i, text in enumerate(MAIN_TABS):
            self.tabs.setTabText(i, tr(text))
        self.info_title.setText(tr("Feature properties (click the map)"))
        self.open_results_button.setText(tr("Open results"))
        self.info.setHorizontalHeaderLabels([tr("property"), tr("value")])
        for widget in (
            self.map,
            self.layers,
            self.editor,
            self.run_panel,
            self.query,
            self.planning,
            self.explain,
            self.results,
            self.compare,
            self.runlist,
            self.browser,
        ):
            widget.retranslate()
        self.set_tool(self.tool)
        self._update_title()
        self._fill_recent_menu()

    def set_cjk_font(self, font: CjkFont | None) -> None:
        """Use a CJK font found after start-up (offers Chinese when there is one)."""
        self.cjk_font = font
        self.actions_["lang_zh"].setEnabled(font is not None)

    def set_language(self, lang: str) -> str:
        """Switch the UI language at runtime; returns the language in effect.

        The status bar's message (in the language before) is cleared.
        """
        effective = i18n.set_language(lang, self.cjk_font is not None)
        self.statusBar().clearMessage()
        if effective != lang:
            self.status(tr("No CJK font found: Chinese is not available, staying in English."))
        self.actions_[f"lang_{effective}"].setChecked(True)
        app_settings().setValue("language", effective)
        self.retranslate()
        return effective

    # ------------------------------------------------------------------ messages

    def status(self, text: str) -> None:
        """Show a message in the status bar."""
        self.statusBar().showMessage(text, 8000)

    def error(self, title: str, message: str) -> None:
        """Tell the user about a problem (dialog; stderr when headless)."""
        self.last_error = message
        self.status(f"{title} {message.splitlines()[0] if message else ''}")
        if self.headless:
            print(f"error: {title} {message}", file=sys.stderr)
        else:
            QMessageBox.critical(self, title, message)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Ask about unsaved changes; stop a running model."""
        if not self.maybe_save():
            event.ignore()
            return
        if self.run_panel.running:
            self.run_panel.cancel()
        self.cancel_export()
        save_workspace(self)
        event.accept()

    # ------------------------------------------------------------------ map tools

    def set_tool(self, tool: str) -> None:
        """What a map click does: "" inspect, a point policy type, "roads" or "query"."""
        self.tool = tool
        hints = {
            "roads": tr(
                "Click a street to add or remove all of it, Shift-click to add or remove one"
                " piece (Esc: stop)."
            ),
            "query": tr("Click the home location on the map (Esc: stop)."),
            "signal": tr("Click a signalised junction on the map (Esc: stop)."),
            "zones": tr("Click zones to add or remove them (Esc: stop)."),
        }
        if tool in POINT_POLICIES:
            hint = tr("Click on the map to place: {policy} (Esc: cancel).").format(
                policy=policy_label(tool)
            )
        else:
            hint = hints.get(tool, "")
        self.map.set_hint(hint)
        if tool != "roads" and self.editor.pick_roads.isChecked():
            self.editor.pick_roads.setChecked(False)
        if tool != "signal" and self.editor.pick_signal.isChecked():
            self.editor.pick_signal.setChecked(False)
        if tool != "zones" and self.editor.pick_zones.isChecked():
            self.editor.pick_zones.setChecked(False)
        if tool != "query" and self.query.pick.isChecked():
            self.query.pick.setChecked(False)

    def map_clicked(self, x: float, y: float) -> None:
        """Handle a click on the main map according to the current tool."""
        if self.tool in POINT_POLICIES:
            self.editor.place_point_policy(self.tool, x, y)
            self.set_tool("")
        elif self.tool == "roads":
            piece = self.map.road_at(x, y)
            links = picked_links(self.city.links, piece, whole_street=not self.map.click_shift)
            if not links:
                self.status(tr("No road here: zoom in and click on a road."))
            elif not self.editor.toggle_links(links):
                self.status(tr("Select a road policy first."))
        elif self.tool == "signal":
            signal = nearest_signal(self.city, x, y, self.map.tolerance())
            if signal is None:
                self.status(tr("No signalised junction here: zoom in and click on one."))
            elif self.editor.set_signal(signal):
                self.set_tool("")
        elif self.tool == "zones":
            zone = self.city.zone_at(x, y)
            if zone is None:
                self.status(tr("No zone here: click inside the city."))
            elif not self.editor.toggle_zone(int(zone)):
                self.status(tr("Select a policy with zones first."))
        elif self.tool == "query":
            self.map.set_marker((x, y))
            self.query.set_home(x, y)
        else:
            point = self.map.mouse.clicked_point
            if point is None:
                self.show_feature(self.map.pick(x, y))
            else:  # a placed point: its policy, in the editor and the property table
                self.side.setCurrentWidget(self.editor)
                self.editor.select(point)
                self.show_policy(point)

    def show_feature(self, feature: tuple[str, Any, dict[str, Any]] | None) -> None:
        """Fill the property table with a picked feature."""
        self.map.highlight(feature)
        rows = [] if feature is None else [(tr("kind"), tr(feature[0])), ("id", feature[1])]
        if feature is not None and feature[0] == "school":
            self.explain.set_school(str(feature[1]))
        self._show_rows(rows + list((feature[2] if feature else {}).items()))

    def show_policy(self, index: int) -> None:
        """Fill the property table with policy ``index`` (its set fields; no map outline)."""
        self.map.highlight(None)  # the selected policy's marker is emphasised instead
        policy = self.doc.policies[index]
        rows = [(tr("kind"), policy_label(str(policy.get("type")))), ("id", policy.get("id"))]
        rest = [(k, v) for k, v in policy.items() if k not in ("type", "id") and v is not None]
        self._show_rows(rows + rest)

    def _show_rows(self, rows: list[tuple[str, Any]]) -> None:
        self.info.setRowCount(len(rows))
        for r, (key, value) in enumerate(rows):
            self.info.setItem(r, 0, QTableWidgetItem(tr(str(key).replace("_", " "))))
            text = format_value(value) if isinstance(value, float) else tr(str(value))
            self.info.setItem(r, 1, QTableWidgetItem(text))

    # ------------------------------------------------------------------ document and runs

    def _doc_changed(self) -> None:
        city_path = self.doc.data.get("city")
        if city_path and (self.city is None or Path(city_path).resolve() != self.city.path):
            self._load_city(Path(city_path))
        self._update_overlays()
        self._update_title()

    def _load_city(self, path: Path) -> None:
        try:  # seconds for a big city: read off the UI thread, the window turning meanwhile
            city = run_and_wait(self, lambda: _prepare_city(path))
        except CitySandboxError as exc:
            self.error(tr("Cannot load the city."), str(exc))
            return
        self.city = city
        self.map.set_city(city)
        self.editor.set_city(city)
        if self.query.run_dir is None:
            latest = Catalog(self.runs_folder).latest()
            self.query.set_run(latest, city.crs)
            self.planning.set_run(latest)
            self.explain.load_async(latest)  # its tables read off the UI thread

    def _update_overlays(self) -> None:
        if self.city is not None:
            self.map.set_policies(self.doc.policies, selected=self.editor.current_index())

    def _update_title(self) -> None:
        dirty = "*" if self.doc.is_dirty() else ""
        locked = f" ({tr('read-only')})" if self.doc.read_only else ""
        self.actions_["read_only"].setChecked(self.doc.read_only)
        self.actions_["read_only"].setEnabled(self.doc.path is not None)
        self.setWindowTitle(f"{tr('CitySandbox')} — {self.doc.display_name()}{locked}{dirty}")

    def _run_finished(self, run_dir: str) -> None:
        self.status(tr("Run finished: {run}").format(run=Path(run_dir).name))
        self.results.load_async(run_dir)  # a failure is reported through results.failed
        self.compare.refresh_runs()

    def _run_progress(self, value: int, text: str) -> None:
        """The run's progress and time left in the status bar (value -1: no run)."""
        self.run_bar.setVisible(0 <= value < 1000)
        self.run_bar.setValue(max(value, 0))
        self.open_results_button.setVisible(value == 1000)
        if text:
            self.statusBar().showMessage(text)

    def open_results(self, run_dir: str) -> None:
        """Bring the Results of a finished run to the front.

        The status bar's Open results goes once it has opened the last run's results.
        """
        self.tabs.setCurrentWidget(self.results)
        if run_dir and run_dir == self.run_panel.last_run:
            self.open_results_button.setVisible(False)
        if run_dir and (self.results.run is None or str(self.results.run.path) != run_dir):
            self.results.load_async(run_dir)

    def _results_loaded(self, run_dir: str) -> None:
        crs = self.city.crs if self.city is not None else None
        self.query.set_run(Path(run_dir), crs)
        self.planning.set_run(Path(run_dir))
        self.explain.load_async(Path(run_dir))  # read off the UI thread

    def _tab_changed(self, index: int) -> None:
        widget = self.tabs.widget(index)
        try:
            if widget is self.results and self.results.run is None:
                self.results.load_latest()
            elif widget is self.compare:
                self.compare.refresh_runs()
                self._preselect_comparison()
            elif widget is self.runlist:
                self.runlist.refresh()
        except CitySandboxError as exc:
            self.error(tr("Cannot read the run."), str(exc))

    def _preselect_comparison(self) -> None:
        """Nothing chosen yet: tick the newest run against the one before (Compare to click).

        The usual way here is a baseline run, then a variant run: the pair is ready and
        only computed when the user clicks Compare.
        """
        compare = self.compare
        runs = compare.baseline
        if compare.comparison is None and not compare.checked_runs() and runs.count() >= 2:
            compare.choose(runs.itemData(1), [runs.itemData(0)])

    # ------------------------------------------------------------------ export

    def export(self, what: str, path: Path | str | None = None) -> Path | None:
        """Export something to ``path`` (asked for when None); the written path, or None.

        The report takes seconds: it is only started here (None returned) and written in
        the background while the status bar offers Cancel export; ``reportFinished``,
        ``reportFailed`` or ``reportCancelled`` tell how it ended.

        Parameters
        ----------
        what
            ``"figure"``: the current view's figure (PNG/SVG); ``"tables"``: CSV files of the
            Results view when it is in front, else of the comparison; ``"report"`` (HTML) and
            ``"layers"`` (GeoPackage): of the comparison.
        path
            The file (or folder, for tables) to write.
        """
        results_tables = (
            what == "tables"
            and self.tabs.currentWidget() is self.results
            and self.results.run is not None
        )
        if what != "figure" and not results_tables and self.compare.comparison is None:
            self.error(tr("Nothing to export."), tr("Compare two runs first (Compare tab)."))
            return None
        if what == "report" and self._report_task is not None:
            self.status(tr("A report is being written: wait for it or cancel it."))
            return None
        filters = {
            "report": "HTML (*.html)",
            "figure": "PNG (*.png);;SVG (*.svg)",
            "tables": "",
            "layers": "GeoPackage (*.gpkg)",
        }
        if path is None:
            if what == "tables":
                path = QFileDialog.getExistingDirectory(self, tr("Export tables to folder"))
            else:
                path, _ = QFileDialog.getSaveFileName(self, tr("Export"), "", filters[what])
            if not path:
                return None
        path = Path(path)
        if what == "report":
            self._start_report(path)
            return None
        try:
            if what == "tables":
                source = self.results if results_tables else self.compare
                out = source.export_tables(path)[0].parent
            elif what == "layers":
                out = run_and_wait(self, lambda: self.compare.export_layers(path))
            else:
                out = self._export_figure(path)
        except (CitySandboxError, OSError, ValueError) as exc:
            self.error(tr("Export failed."), str(exc))
            return None
        self.status(tr("Exported {path}").format(path=out))
        return out

    def _start_report(self, path: Path) -> None:
        """Write the comparison report in the background (figures and the city: seconds)."""
        self._report_cancelled = False
        self._report_task = run_in_background(
            self,
            lambda: self.compare.export_report(path),
            self._report_written,
            self._report_stopped,
        )
        self._show_report_running(True)
        self.statusBar().showMessage(tr("Writing the report {name}…").format(name=path.name))

    def cancel_export(self) -> None:
        """Stop the report being written (its child process); nothing is left at the target."""
        if self._report_task is not None:
            self._report_cancelled = True
            cancel_reports()

    def _show_report_running(self, running: bool) -> None:
        self.cancel_export_button.setVisible(running)
        self.actions_["cancel_export"].setEnabled(running)
        if not running:
            self._report_task = None

    def _report_written(self, out: Path) -> None:
        """The report is complete (also when a cancel came after its last write)."""
        self._show_report_running(False)
        self.status(tr("Exported {path}").format(path=out))
        self.reportFinished.emit(str(out))

    def _report_stopped(self, exc: Exception) -> None:
        self._show_report_running(False)
        if self._report_cancelled:  # the child was terminated: its unfinished file removed
            self.status(tr("Export cancelled: nothing was written."))
            self.reportCancelled.emit()
            return
        self.error(tr("Export failed."), str(exc))
        self.reportFailed.emit(str(exc))

    def _export_figure(self, path: Path) -> Path:
        current = self.tabs.currentWidget()
        if current is self.compare and self.compare.comparison is not None:
            return self.compare.export_figure(path)
        figure = self.results.series_figure if current is self.results else self.map.figure
        figure.savefig(path, bbox_inches="tight")
        return path

    # ------------------------------------------------------------------ views

    def show_view(self, view: str) -> None:
        """Bring a main view to the front: map, editor, results, compare, runs or scenarios."""
        if view not in VIEWS:
            msg = f"--view {view}: allowed: {', '.join(VIEWS)}"
            raise ValueError(msg)
        if view in ("map", "editor"):
            self.tabs.setCurrentIndex(0)
            self.side.setCurrentWidget(self.editor if view == "editor" else self.run_panel)
            if view == "editor" and self.doc.policies and self.editor.current_index() < 0:
                self.editor.select(0)
        elif view == "results":
            self.tabs.setCurrentWidget(self.results)
        elif view == "runs":
            self.tabs.setCurrentWidget(self.runlist)
        elif view == "scenarios":
            self.tabs.setCurrentIndex(0)
            self.side.setCurrentWidget(self.browser)
        else:
            self.tabs.setCurrentWidget(self.compare)
            if self.compare.comparison is None:
                self.compare.choose_newest()


def _prepare_city(path: Path) -> City:
    """Load a city and build its basemap (roads, land, catchments, names; both cached)."""
    city = cached_city(path)
    basemap_of(city)
    return city
