"""Outputs are checked before the work (issue 11, class 4) and batches stay in their lane (class 8).

Every bad output gets exit status 2, one line on stderr naming the flag and the path, and
nothing written. The tests run as root, for whom a read-only folder is still writable, so
"not writable" is made two ways that hold for root too: a path *under a file* (no one can
create a folder there) and ``os.access`` patched to say no (what a non-root user sees);
a full disk is ``shutil.disk_usage`` patched to report 1 MiB free.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import namedtuple
from pathlib import Path

import pandas as pd
import pytest
import yaml
from _support import ROOT, write_scenario

from sim import outputs
from sim.cli import main as cli_main
from sim.errors import OutputError
from sim.runs import folder

DATA = ROOT / "tests" / "data"
Usage = namedtuple("Usage", "total used free")


def _files(root: Path) -> set[Path]:
    return set(root.rglob("*")) if root.exists() else set()


def _one_line_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], *needles: str, after_progress: bool = False
) -> str:
    """Exit 2 and one error line naming ``needles`` (after the progress lines of a run)."""
    code = cli_main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    assert after_progress or len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in errors[0], (needle, err)
    return errors[0]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scenario(tmp_path_factory.mktemp("scen"), years=1)


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "a_file.txt"
    path.write_text("not a folder\n")
    return path


def _command(kind: str, scenario: Path, out: Path) -> list[str]:
    return {
        "run": ["run", str(scenario), "--out", str(out)],
        "compare": ["compare", "a", "b", "--out", str(out)],
        "forecast": [
            "forecast",
            "--history",
            str(DATA / "forecast_history.csv"),
            "--horizon",
            "1",
            "--out",
            str(out),
        ],
        "import-osm": ["import-osm", str(DATA / "tiny_city.osm"), "--out", str(out)],
    }[kind]


# (command, how --out is broken, what the line says); folders for run, files for the others
CASES = [
    ("run", "existing_file", "is a file, not a folder"),
    ("run", "under_a_file", "is a file, not a folder"),
    ("run", "not_writable", "is not writable"),
    ("run", "disk_full", "MiB free"),
    ("compare", "a_folder", "is a folder; give a file name"),
    ("compare", "under_a_file", "is a file, not a folder"),
    ("compare", "not_writable", "is not writable"),
    ("forecast", "a_folder", "is a folder; give a file name"),
    ("forecast", "under_a_file", "is a file, not a folder"),
    ("forecast", "not_writable", "is not writable"),
    ("import-osm", "a_folder", "is a folder; give a file name"),
    ("import-osm", "not_writable", "is not writable"),
    ("import-osm", "disk_full", "MiB free"),
]


@pytest.mark.parametrize(("kind", "broken", "says"), CASES)
def test_bad_out_is_refused_before_the_work(
    kind: str,
    broken: str,
    says: str,
    scenario: Path,
    tmp_path: Path,
    a_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "target"
    out = {
        "existing_file": a_file,
        "under_a_file": a_file / "sub" / ("out.html" if kind != "run" else "runs"),
        "a_folder": tmp_path,
        "not_writable": target / ("out.csv" if kind != "run" else "runs"),
        "disk_full": target / ("roads.gpkg" if kind != "run" else "runs"),
    }[broken]
    target.mkdir()
    if broken == "not_writable":
        real_access = os.access
        monkeypatch.setattr(
            os, "access", lambda p, mode: False if Path(p) == target else real_access(p, mode)
        )
    if broken == "disk_full":
        monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**12, 10**12, 2**20))
    before = _files(tmp_path)
    _one_line_exit_2(capsys, _command(kind, scenario, out), "--out", str(out), says)
    assert _files(tmp_path) == before  # nothing written, not even a folder


def test_a_scenario_name_too_long_for_a_folder_is_refused_up_front(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long = write_scenario(tmp_path, name="x" * 250, years=1)
    out = tmp_path / "runs"
    _one_line_exit_2(capsys, ["run", str(long), "--out", str(out)], "name", "fit in a name")
    assert not out.exists()


def test_a_write_error_mid_run_is_one_line_and_leaves_no_temp_folder(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import sim.runs.run

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sim.runs.run, "_write_layers", disk_full)
    out = tmp_path / "runs"
    err = _one_line_exit_2(
        capsys,
        ["run", str(scenario), "--out", str(out)],
        "--out",
        "No space left on device",
        after_progress=True,
    )
    assert "nothing was kept" in err
    assert [p.name for p in out.iterdir()] == []  # no .tmp-*, no run folder, no catalog


def _tables() -> dict[str, pd.DataFrame]:
    return {name: pd.DataFrame({"a": [1]}) for name in folder.TABLES}


def test_leftover_temp_folders_of_a_killed_run_are_removed_by_the_next(tmp_path: Path) -> None:
    dead = tmp_path / outputs.tmp_name("old-run", pid=2**22 + 7)  # no such process
    alive = tmp_path / outputs.tmp_name("busy-run")  # this process: still writing
    fresh = tmp_path / outputs.tmp_name("just-killed", pid=2**22 + 9)
    for d in (dead, alive, fresh):
        (d / "figures").mkdir(parents=True)
    past = time.time() - 10 * outputs.STALE_AFTER_S
    for d in (dead, alive):
        os.utime(d, (past, past))
    run_dir = folder.write_run_folder(
        tmp_path, "next-1234567890", _tables(), {"run_id": "next"}, lambda d: None
    )
    assert folder.is_complete(run_dir)
    assert not dead.exists()  # dead writer, old: removed
    assert alive.exists() and fresh.exists()  # a live writer, or too recent to be sure


def test_concurrent_writers_never_share_a_temporary_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real_replace = os.replace

    def spy(src: str | Path, dst: str | Path) -> None:
        seen.append(Path(src).name)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    report = tmp_path / "report.html"
    outputs.write_atomically(report, "one")
    outputs.write_atomically(report, "two")
    assert len(set(seen)) == 2 and all(name.startswith(".tmp-report.html-") for name in seen)
    assert report.read_text() == "two" and sorted(p.name for p in tmp_path.iterdir()) == [
        "report.html"
    ]


def test_write_atomically_failure_names_the_path_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "a_file"
    target.write_text("x")
    with pytest.raises(OutputError, match=r"^out .*a_file/report.html: cannot be written"):
        outputs.write_atomically(target / "report.html", "text")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


# --------------------------------------------------------------------------- batch (class 8)


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b", "../escape", ""])
def test_a_sweep_name_that_is_not_a_plain_folder_name_is_refused(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = write_scenario(tmp_path, years=1)
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"name": name, "base": base.name, "replications": 1}))
    before = _files(tmp_path)
    _one_line_exit_2(capsys, ["batch", str(sweep), "--workers", "1"], "name")
    assert _files(tmp_path) == before


def test_batch_out_that_is_a_file_is_refused(
    tmp_path: Path, a_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = write_scenario(tmp_path, years=1)
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"name": "sw", "base": base.name, "replications": 1}))
    _one_line_exit_2(
        capsys, ["batch", str(sweep), "--out", str(a_file)], "--out", "is a file, not a folder"
    )
