"""File → Import city…: the import config as a form, the run off the UI thread, the report.

The form holds the keys of :mod:`sim.cityimport.config` (general settings, then one
group per source with its file and columns); "Load config…" fills it from a YAML file.
Import writes the form as ``<city>.import.yaml`` beside the output, runs
:func:`sim.cityimport.build.import_city` in a worker thread (polled by a timer, so the
window keeps painting), then shows the report and a preview map of the imported city
and writes its default scenario. "Open the city" closes the dialog; the main window
then opens that scenario like any other, so the city loads as the default one does.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from gui.i18n import tr
from gui.mapview import MapView
from sim.cityimport.config import SOURCES
from sim.education.systems import SYSTEMS
from sim.errors import CitySandboxError
from sim.geo import COORDINATE_SYSTEMS

OPTIONAL = ("register", "population", "sites", "jobs", "parking", "demography")
"""Sources a form may leave out (exactly one of population and register is needed)."""
POLL_MS = 100


class SourceBox(QGroupBox):
    """One source of the config: a file and the columns its sub-keys name."""

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(key, parent)
        self.key = key
        needed, optional = SOURCES[key]
        self.setCheckable(key in OPTIONAL)
        self.setChecked(key not in OPTIONAL or key == "population")
        form = QFormLayout(self)
        self.file = QLineEdit()
        browse = QPushButton(tr("Browse…"))
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.file, 1)
        row.addWidget(browse)
        form.addRow("file", row)
        self.fields: dict[str, QLineEdit] = {}
        for sub in needed[1:] + optional:
            edit = QLineEdit()
            if sub in needed:
                edit.setText(sub)
            self.fields[sub] = edit
            form.addRow(sub, edit)
        self.from_osm: QCheckBox | None = None
        if key == "parking":
            self.from_osm = QCheckBox(tr("Car parks from OpenStreetMap"))
            self.from_osm.setChecked(True)
            form.addRow("", self.from_osm)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.key, self.file.text())
        if path:
            self.file.setText(path)

    def value(self) -> dict[str, Any] | None:
        """The config mapping of this source, or None when left out."""
        if self.isCheckable() and not self.isChecked():
            return None
        if self.from_osm is not None and self.from_osm.isChecked():
            return {"from_osm": True}
        out: dict[str, Any] = {"file": self.file.text().strip()}
        out |= {k: e.text().strip() for k, e in self.fields.items() if e.text().strip()}
        return out

    def set_value(self, value: dict[str, Any] | None) -> None:
        """Fill from a config mapping (None: leave the source out)."""
        if self.isCheckable():
            self.setChecked(value is not None)
        value = value or {}
        if self.from_osm is not None:
            self.from_osm.setChecked(bool(value.get("from_osm")))
        self.file.setText(str(value.get("file", "")))
        for sub, edit in self.fields.items():
            edit.setText(str(value[sub]) if value.get(sub) is not None else "")


class ImportDialog(QDialog):
    """The import form, its report and a preview of the imported city.

    Attributes
    ----------
    scenario_path
        The default scenario of the imported city, once an import succeeded.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Import city"))
        self.resize(900, 760)
        self.scenario_path: Path | None = None
        self.report: Any = None
        self._base = Path.cwd()
        self._future: Future[Any] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._poll)

        self.name = QLineEdit("my-district")
        self.base_year = QSpinBox()
        self.base_year.setRange(1900, 2200)
        self.base_year.setValue(2024)
        self.school_system = QComboBox()
        self.school_system.addItems(list(SYSTEMS))
        self.crs = QLineEdit("auto")
        self.coordinates = QComboBox()
        self.coordinates.addItems(list(COORDINATE_SYSTEMS))
        self.min_cell = QSpinBox()
        self.min_cell.setRange(1, 1000)
        self.min_cell.setValue(10)
        self.out = QLineEdit()
        general = QGroupBox(tr("General"))
        form = QFormLayout(general)
        for label, widget in (
            ("name", self.name),
            ("base_year", self.base_year),
            ("school_system", self.school_system),
            ("crs", self.crs),
            ("coordinates", self.coordinates),
            ("privacy.min_cell", self.min_cell),
            (tr("Write the city to"), self.out),
        ):
            form.addRow(label, widget)
        self.sources = {key: SourceBox(key) for key in SOURCES}
        body = QWidget()
        column = QVBoxLayout(body)
        column.addWidget(general)
        for box in self.sources.values():
            column.addWidget(box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)

        self.report_view = QTextBrowser()
        self.preview = MapView(title=tr("Preview"))
        self.tabs = QTabWidget()
        self.tabs.addTab(scroll, tr("Config"))
        self.tabs.addTab(self.report_view, tr("Report"))
        self.tabs.addTab(self.preview, tr("Preview"))

        self.load_button = QPushButton(tr("Load config…"))
        self.load_button.clicked.connect(lambda: self.load_config())
        self.import_button = QPushButton(tr("Import"))
        self.import_button.clicked.connect(self.start)
        self.open_button = QPushButton(tr("Open the city"))
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self.accept)
        self.state = QLabel()
        buttons = QHBoxLayout()
        buttons.addWidget(self.load_button)
        buttons.addWidget(self.state)
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)

    # ------------------------------------------------------------------ the form

    def load_config(self, path: Path | str | None = None) -> bool:
        """Fill the form from an import config (asks for one when ``path`` is None)."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, tr("Load config…"), str(self._base), "YAML (*.yaml *.yml)"
            )
            if not path:
                return False
        path = Path(path).resolve()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            self.state.setText(str(exc))
            return False
        self._base = path.parent
        self.name.setText(str(data.get("name", "")))
        self.base_year.setValue(int(data.get("base_year", 2024)))
        self.school_system.setCurrentText(str(data.get("school_system", "china")))
        self.crs.setText(str(data.get("crs", "auto")))
        self.coordinates.setCurrentText(str(data.get("coordinates", "wgs84")))
        self.min_cell.setValue(int((data.get("privacy") or {}).get("min_cell", 10)))
        for key, box in self.sources.items():
            value = data.get(key)
            if isinstance(value, dict) and "file" in value:
                value = {**value, "file": str((self._base / str(value["file"])).resolve())}
            box.set_value(value)
        if not self.out.text():
            self.out.setText(str(self._base / f"{data.get('name', 'city')}.gpkg"))
        return True

    def config(self) -> dict[str, Any]:
        """The form as an import config mapping (file names absolute)."""
        data: dict[str, Any] = {
            "name": self.name.text().strip(),
            "base_year": self.base_year.value(),
            "school_system": self.school_system.currentText(),
            "crs": self.crs.text().strip() or "auto",
            "coordinates": self.coordinates.currentText(),
            "privacy": {"min_cell": self.min_cell.value()},
        }
        for key, box in self.sources.items():
            value = box.value()
            if value is not None:
                data[key] = value
        return data

    # ------------------------------------------------------------------ importing

    def start(self) -> None:
        """Write the config beside the output and import it in the worker thread."""
        out = Path(self.out.text().strip() or self._base / "city.gpkg").resolve()
        config = out.with_suffix(".import.yaml")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            config.write_text(yaml.safe_dump(self.config(), allow_unicode=True), "utf-8")
        except OSError as exc:
            self.state.setText(str(exc))
            return
        self.import_button.setEnabled(False)
        self.open_button.setEnabled(False)
        self.state.setText(tr("Importing…"))
        self._future = self._pool.submit(_import, config, out)
        self._timer.start(POLL_MS)

    @property
    def busy(self) -> bool:
        """Whether an import is running."""
        return self._future is not None

    def _poll(self) -> None:
        if self._future is None or not self._future.done():
            return
        self._timer.stop()
        future, self._future = self._future, None
        self.import_button.setEnabled(True)
        try:
            city, report, scenario = future.result()
        except CitySandboxError as exc:
            self.state.setText(str(exc))
            return
        self.report = report
        self.report_view.setHtml(report.to_html())
        self.tabs.setCurrentWidget(self.report_view)
        if city is None:
            self.state.setText(tr("Import stopped: see the report."))
            return
        self.preview.set_city(city)
        self.scenario_path = scenario
        self.open_button.setEnabled(True)
        self.state.setText(tr("Imported."))

    def done(self, result: int) -> None:
        """Close (an import still running finishes in the background)."""
        self._timer.stop()
        self._pool.shutdown(wait=False)
        super().done(result)


def _import(config: Path, out: Path) -> tuple[Any, Any, Path | None]:
    """The worker: import, then write the default scenario of a written city."""
    from sim.cityimport.build import import_city
    from sim.cityimport.scenario import write_default_scenario

    city, report = import_city(config, out)
    if city is None:
        return None, report, None
    return city, report, write_default_scenario(city, out)
