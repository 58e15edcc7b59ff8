"""The main window's scenario files: new, open, save, Save As, recent files, unsaved changes.

Scenarios are hard to overwrite by accident: a shipped scenario opens read-only (Save goes
to Save As), Save As proposes a new file name and names the scenario after it, another
shipped file is never overwritten, and the unsaved-changes question has Cancel, not Save,
as its default button.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from gui.document import is_shipped, scenario_data
from gui.i18n import tr
from gui.scenariofile import ScenarioFile
from sim import settings
from sim.errors import CitySandboxError

MAX_RECENT = 8
SCENARIO_FILTER = "Scenario (*.yaml *.yml)"

# The mixin's host is a main window (it parents the dialogs); only type checkers see that,
# so at run time the mixin stays a plain class ahead of QMainWindow in MainWindow's bases.
if TYPE_CHECKING:
    _Host = QMainWindow
else:
    _Host = object


def app_settings() -> QSettings:
    """The app's persistent settings (recent files, language), as an INI file per user."""
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, "CitySandbox", "CitySandbox"
    )


def proposed_path(name: str, folder: Path) -> Path:
    """A file name for Save As that is not taken yet: ``<name>-copy.yaml``, ``-copy-2``, ..."""
    stem = f"{name}-copy"
    path = folder / f"{stem}.yaml"
    n = 2
    while path.exists():
        path = folder / f"{stem}-{n}.yaml"
        n += 1
    return path


class ScenarioFiles(_Host):
    """File actions of :class:`gui.mainwindow.MainWindow` (mixed in; uses its doc and dialogs)."""

    doc: Any
    headless: bool
    recent_menu: Any
    status: Callable[[str], None]  # the host's status-bar message
    error: Callable[[str, str], None]  # the host's error report (title, message)

    def maybe_save(self) -> bool:
        """Ask before losing unsaved changes; False means the user cancelled."""
        if not self.doc.is_dirty() or self.headless:
            return True
        answer = QMessageBox.question(
            self,
            tr("Unsaved changes"),
            tr("Save the changes to {name}?").format(name=self.doc.display_name()),
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,  # Enter never saves or discards
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_scenario(self) -> bool:
        """Start a new scenario that extends the default one (no policies, not saved yet)."""
        if not self.maybe_save():
            return False
        data: dict[str, Any] = {"name": "new-scenario", "city": str(settings.default_city)}
        default = settings.scenarios_folder / "default.yaml"
        file = None
        try:
            fresh = {"name": "new-scenario", "description": "", "policies": []}
            data = scenario_data(default) | fresh  # what a child of default.yaml reads as
            file = ScenarioFile.extending(default, data)
        except CitySandboxError as exc:
            self.status(str(exc))
        self.doc.new(data, file=file)
        return True

    def open_scenario(self, path: Path | str | None = None) -> bool:
        """Open a scenario file (asks for one when ``path`` is None)."""
        if not self.maybe_save():
            return False
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self,
                tr("Open scenario"),
                str(settings.scenarios_folder),
                SCENARIO_FILTER,
            )
            if not path:
                return False
        try:
            self.doc.open(Path(path))
        except CitySandboxError as exc:
            self.error(tr("Cannot open the scenario."), str(exc))
            return False
        self._add_recent(Path(path))
        if self.doc.read_only:
            self.status(tr("A shipped scenario opens read-only: use Save As to keep changes."))
        return True

    def import_city(self) -> bool:
        """File → Import city…: the import dialog; opens the imported city's scenario."""
        from gui.importer import ImportDialog

        if not self.maybe_save():
            return False
        dialog = ImportDialog(self)
        accepted = dialog.exec() == ImportDialog.DialogCode.Accepted
        if not accepted or dialog.scenario_path is None:
            return False
        return self.open_scenario(dialog.scenario_path)

    def save(self) -> bool:
        """Save to the scenario's file (Save As when it has none or it is read-only)."""
        if self.doc.path is None or self.doc.read_only:
            return self.save_as()
        return self._save_to(self.doc.path)

    def save_as(self, path: Path | str | None = None) -> bool:
        """Save under a new name (asked for, with a fresh name proposed, when ``path`` is None).

        The scenario's ``name`` becomes the file's name, so its runs are told apart.
        """
        if path is None:
            folder = self.doc.path.parent if self.doc.path else settings.scenarios_folder
            start = proposed_path(str(self.doc.data.get("name") or "scenario"), folder)
            path, _ = QFileDialog.getSaveFileName(
                self,
                tr("Save scenario as"),
                str(start),
                SCENARIO_FILTER,
            )
            if not path:
                return False
        path = Path(path).resolve()
        if path != self.doc.path and path.exists() and is_shipped(path):
            message = tr("{name} is a shipped scenario: choose another name.")
            self.error(tr("Cannot save the scenario."), message.format(name=path.name))
            return False
        if self.doc.data.get("name") != path.stem:
            self.doc.set_field("name", path.stem)
        return self._save_to(path)

    def _save_to(self, path: Path) -> bool:
        try:
            saved = self.doc.save(path)
        except CitySandboxError as exc:
            self.error(tr("Cannot save the scenario."), str(exc))
            return False
        except OSError as exc:
            self.error(tr("Cannot save the scenario."), f"{path}: {exc.strerror}")
            return False
        self._add_recent(saved)
        self.status(tr("Saved {path}").format(path=saved))
        return True

    def recent_files(self) -> list[str]:
        """Recently opened or saved scenario files, newest first."""
        value = app_settings().value("recent", [])  # one entry comes back as a bare str
        if isinstance(value, str):
            return [value]
        return list(value) if isinstance(value, (list, tuple)) else []

    def _add_recent(self, path: Path) -> None:
        path_text = str(Path(path).resolve())
        recent = [path_text] + [p for p in self.recent_files() if p != path_text]
        app_settings().setValue("recent", recent[:MAX_RECENT])
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_files():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_scenario(p))
        self.recent_menu.setEnabled(bool(self.recent_files()))
