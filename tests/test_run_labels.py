"""The catalog keeps names and notes users give runs, and deletes a run with its folder."""

from __future__ import annotations

import json

from sim.runs.catalog import Catalog


def _register(folder, run_id):
    run = folder / run_id
    run.mkdir(parents=True)
    manifest = {"run_id": run_id, "scenario": {"name": "s"}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    Catalog(folder).register(run, manifest)
    return run


def test_names_and_notes_are_kept_apart_and_survive_each_other(tmp_path):
    _register(tmp_path, "s-1")
    catalog = Catalog(tmp_path)
    assert catalog.labels() == {}
    catalog.set_label("s-1", name="Baseline")
    catalog.set_label("s-1", notes="for the council")
    assert Catalog(tmp_path).labels() == {"s-1": {"name": "Baseline", "notes": "for the council"}}


def test_delete_removes_row_label_and_folder_but_never_a_folder_elsewhere(tmp_path):
    runs = tmp_path / "runs"
    inside = _register(runs, "s-1")
    elsewhere = _register(tmp_path / "other", "s-2")
    catalog = Catalog(runs)
    catalog.register(elsewhere, {"run_id": "s-2", "scenario": {"name": "s"}})
    catalog.set_label("s-1", name="x")
    catalog.delete("s-1")
    catalog.delete("s-2")
    assert not inside.exists() and elsewhere.is_dir()
    assert catalog.runs().empty and catalog.labels() == {}
