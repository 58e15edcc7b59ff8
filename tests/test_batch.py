"""Batch runs: local pool vs Dask, worker deaths, Ctrl-C and resume, the batch report.

Executor tests use :class:`sim.batch.tasks.SyntheticRunner` (a stand-in run taking a set time and
writing a tiny run folder the way ``run_scenario`` does); the end-to-end test runs the
real model on a one-year scenario through ``main.py batch``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.batch.dask_cluster import local_dask_cluster
from sim.batch.executor import run_batch
from sim.batch.local import _held_interrupts
from sim.batch.locks import TaskLock, remove_lock_parts
from sim.batch.report import collect_kpis, sensitivity, write_batch_report
from sim.batch.store import TaskStore, tasks_frame
from sim.batch.sweep import expand_sweep, load_sweep
from sim.batch.tasks import SyntheticRunner
from sim.errors import RunError, UsageError
from sim.runs.folder import is_complete

REPO = Path(__file__).resolve().parents[1]


def make_sweep(tmp_path: Path, *, years: int = 1, real: bool = False) -> Path:
    """2 variants × 3 replications of a short scenario on the default city."""
    base = {"extends": str(REPO / "scenarios" / "default.yaml"), "name": "tiny", "years": years}
    if real:  # keep the traffic assignment short: the test is about executors, not accuracy
        base["parameters"] = {"assignment": {"max_iter": 4, "rel_gap": 0.01}}
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(base))
    # fertility shows from the second year on; car share already in the first one
    axis = {"parameters.car_share": [0.35, 0.55]} if real else None
    sweep = {
        "name": "tb",
        "base": "tiny.yaml",
        "seed": 3,
        "replications": 3,
        "axes": axis or {"parameters.fertility_multiplier": [0.7, 1.3]},
    }
    path = tmp_path / "tb.yaml"
    path.write_text(yaml.safe_dump(sweep))
    return path


def assert_clean(out: Path, n_tasks: int) -> pd.DataFrame:
    """Every task once and done, each run folder complete, no partial folder or lock left."""
    frame = tasks_frame(out)
    assert len(frame) == n_tasks and frame["task_id"].is_unique
    assert (frame["status"] == "done").all(), frame[["task_id", "status", "error"]]
    runs = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert sorted(p.name for p in runs) == sorted(frame["task_id"])
    assert all(is_complete(p) for p in runs)
    assert not list(out.glob(".tmp-*")) and not list(out.glob(".old-*"))
    assert not list((out / ".locks").glob("*"))
    return frame


class _DieOrFail:
    """A runner whose worker process dies on one task and which raises on another."""

    def __call__(self, scenario, runs_folder, *, cancel=None):
        if scenario.name == "tb-v1-r0":
            os.kill(os.getpid(), signal.SIGKILL)
        if scenario.name == "tb-v0-r1":
            msg = "bad input for this variant"
            raise ValueError(msg)
        return SyntheticRunner(0.0)(scenario, runs_folder, cancel=cancel)


def start_killer(out: Path) -> tuple[threading.Thread, dict[str, int]]:
    """A thread that SIGKILLs the worker process of the first task seen running."""
    store = TaskStore(out)
    killed: dict[str, int] = {}

    def kill_first_running_worker():
        while not killed:
            frame = store.frame()
            running = frame[(frame["status"] == "running") & frame["worker_pid"].notna()]
            if len(running):
                row = running.iloc[0]
                time.sleep(0.3)  # mid-task: its temporary run folder exists now
                os.kill(int(row["worker_pid"]), signal.SIGKILL)
                killed[row["task_id"]] = int(row["worker_pid"])
            time.sleep(0.05)

    killer = threading.Thread(target=kill_first_running_worker, daemon=True)
    killer.start()
    return killer, killed


def test_worker_killed_mid_sweep_is_retried_and_each_task_recorded_once(tmp_path):
    tasks = expand_sweep(load_sweep(make_sweep(tmp_path, years=2)))
    out = tmp_path / "out"
    killer, killed = start_killer(out)
    summary = run_batch(tasks, out, workers=2, runner=SyntheticRunner(1.0), progress=False)
    killer.join(timeout=5)
    assert killed, "no worker was killed"
    assert (summary.done, summary.failed, summary.interrupted) == (6, 0, False)
    frame = assert_clean(out, 6).set_index("task_id")
    (victim,) = killed
    assert frame.loc[victim, "attempts"] == 1  # charged once, then finished
    assert frame.loc[victim, "worker_pid"] != killed[victim]
    assert (frame.drop(index=victim)["attempts"] == 0).all()  # bystanders not charged


def test_dask_worker_killed_mid_sweep_is_rescheduled(tmp_path):
    tasks = expand_sweep(load_sweep(make_sweep(tmp_path, years=2)))
    out = tmp_path / "out"
    with local_dask_cluster(2) as cluster:
        killer, killed = start_killer(out)
        summary = run_batch(
            tasks,
            out,
            scheduler=cluster.scheduler_address,
            runner=SyntheticRunner(1.0),
            progress=False,
        )
        killer.join(timeout=5)
    assert killed, "no worker was killed"
    assert (summary.done, summary.failed) == (6, 0)
    frame = assert_clean(out, 6).set_index("task_id")
    (victim,) = killed
    assert frame.loc[victim, "worker_pid"] != killed[victim]  # ran again on a new worker


def test_worker_dying_every_time_fails_after_retries_and_errors_are_not_retried(tmp_path):
    tasks = expand_sweep(load_sweep(make_sweep(tmp_path)))
    out = tmp_path / "out"
    summary = run_batch(tasks, out, workers=2, retries=1, runner=_DieOrFail(), progress=False)
    assert (summary.done, summary.failed) == (4, 2)
    frame = tasks_frame(out).set_index("task_id")
    by_name = {tid.rsplit("-", 1)[0]: tid for tid in frame.index}
    died = frame.loc[by_name["tb-v1-r0"]]
    assert died["status"] == "failed" and died["attempts"] == 2
    assert "SIGKILL" in died["error"] and "2 attempts" in died["error"]
    raised = frame.loc[by_name["tb-v0-r1"]]
    assert raised["status"] == "failed" and raised["attempts"] == 0
    # the worker's own log lines travel with the failure into the catalog
    cause, log = raised["error"].split("\nworker log:\n")
    assert cause == "ValueError: bad input for this variant"
    assert f"task {raised.name} started on " in log
    assert (frame.drop(index=[died.name, raised.name])["status"] == "done").all()
    assert not list(out.glob(".tmp-*")) and not list((out / ".locks").glob("*"))


_BATCH_SCRIPT = """
import json, sys
from pathlib import Path
from sim.batch.executor import run_batch
from sim.batch.sweep import expand_sweep, load_sweep
from sim.batch.tasks import SyntheticRunner

if __name__ == "__main__":
    tasks = expand_sweep(load_sweep(sys.argv[1]))
    runner = SyntheticRunner(1.0, log_writes=True) if len(sys.argv) < 4 else SyntheticRunner(
        600.0, honour_cancel=False)  # a task that does not stop by itself
    s = run_batch(tasks, Path(sys.argv[2]), workers=2, runner=runner, resume=True,
                  progress=False)
    print(json.dumps({"interrupted": s.interrupted, "done": s.done, "failed": s.failed,
                      "locked": s.locked, "skipped": s.skipped}))
"""


def start_batch(tmp_path: Path, sweep: Path, out: Path, *stubborn: str) -> subprocess.Popen:
    """``run_batch`` in a child process (2 workers, 1 s per scenario-year, writes logged).

    With ``stubborn`` ("stubborn"), every task takes 10 minutes and ignores cancel.
    """
    script = tmp_path / "batch_script.py"
    script.write_text(_BATCH_SCRIPT)
    return subprocess.Popen(
        [sys.executable, str(script), str(sweep), str(out), *stubborn],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_two_batch_processes_never_write_the_same_run(tmp_path):
    sweep = make_sweep(tmp_path)
    out = tmp_path / "out"
    TaskStore(out)  # both start on an existing catalog
    first, second = start_batch(tmp_path, sweep, out), start_batch(tmp_path, sweep, out)
    results = [
        json.loads(p.communicate(timeout=120)[0].strip().splitlines()[-1]) for p in (first, second)
    ]
    for r in results:  # each saw every task: ran or adopted it, found it locked or finished
        assert r["done"] + r["locked"] + r["skipped"] == 6 and r["failed"] == 0
    lines = (out / ".synthetic-writes.log").read_text().splitlines()
    writer = dict(line.split() for line in lines)
    assert len(lines) == len(writer) == 6  # every run written exactly once
    frame = assert_clean(out, 6)
    # each row's provenance is that of the batch whose worker wrote the run: the other
    # batch, finding the task running, never overwrote it
    for row in frame.itertuples():
        assert row.worker.endswith(f":{writer[row.task_id]}"), row
    assert (frame.groupby("worker")["batch"].nunique() == 1).all(), frame[["worker", "batch"]]


def test_sigint_stops_cleanly_and_resume_finishes_without_recomputing(tmp_path):
    sweep = make_sweep(tmp_path, years=2)
    out = tmp_path / "out"
    proc = start_batch(tmp_path, sweep, out)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        db = out / "catalog.sqlite"
        if db.exists() and (tasks_frame(out)["status"] == "done").any():
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)  # to the parent only: it must stop its workers itself
    stdout, stderr = proc.communicate(timeout=60)
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result["interrupted"] and result["failed"] == 0, stderr
    assert 1 <= result["done"] < 6
    frame = tasks_frame(out)
    finished = set(frame.loc[frame["status"] == "done", "task_id"])
    assert len(finished) == result["done"]
    assert set(frame.loc[frame["status"] != "done", "status"]) <= {"pending", "queued"}
    assert not list(out.glob(".tmp-*")) and not list((out / ".locks").glob("*"))
    mtimes = {tid: (out / tid / "kpis.parquet").stat().st_mtime_ns for tid in finished}

    tasks = expand_sweep(load_sweep(sweep))
    with pytest.raises(UsageError, match=rf"^resume: {len(finished)} of 6 tasks of this sweep"):
        run_batch(tasks, out, workers=2, runner=SyntheticRunner(0.0), progress=False)
    summary = run_batch(
        tasks, out, workers=2, resume=True, runner=SyntheticRunner(0.0), progress=False
    )
    assert (summary.skipped, summary.done, summary.failed) == (len(finished), 6 - len(finished), 0)
    assert_clean(out, 6)
    assert {tid: (out / tid / "kpis.parquet").stat().st_mtime_ns for tid in finished} == mtimes


def test_a_ctrl_c_while_a_result_is_recorded_arrives_after_the_record():
    steps = []
    with pytest.raises(KeyboardInterrupt), _held_interrupts():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # a signal is handled between bytecodes: it has arrived by now
        steps.append("catalog")
        steps.append("counts")
    assert steps == ["catalog", "counts"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_worker_stopped_while_taking_a_lock_leaves_nothing_and_others_keep_theirs(tmp_path):
    lock = TaskLock(tmp_path, "t1", "b1")
    assert lock.acquire() is None
    locks = lock.path.parent
    dead, alive = locks / ".t1.lock.111.aaaa", locks / ".t1.lock.222.bbbb"
    other_task = locks / ".t10.lock.111.cccc"
    for part in (dead, alive, other_task):
        part.write_text("{}")
    remove_lock_parts(tmp_path, "t1", 111)
    assert not dead.exists() and alive.exists() and other_task.exists() and lock.path.exists()


def test_sigint_stops_tasks_that_ignore_cancel_and_leaves_nothing_behind(tmp_path):
    sweep = make_sweep(tmp_path)
    out = tmp_path / "out"
    proc = start_batch(tmp_path, sweep, out, "stubborn")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # both workers deep in their 10-minute task
        if (out / "catalog.sqlite").exists() and len(list(out.glob(".tmp-*"))) == 2:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)  # not 10 minutes: the workers are stopped
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result["interrupted"] and result["done"] == 0 and result["failed"] == 0, stderr
    assert set(tasks_frame(out)["status"]) <= {"pending", "queued"}
    assert not list(out.glob(".tmp-*")) and not list((out / ".locks").glob("*"))


def test_batch_report_tables_and_sensitivity(tmp_path):
    tasks = expand_sweep(load_sweep(make_sweep(tmp_path, years=3)))
    out = tmp_path / "out"
    run_batch(tasks, out, workers=1, runner=SyntheticRunner(0.0), progress=False)
    report = write_batch_report(out, tmp_path / "rep" / "report.html")
    text = report.read_text()
    assert text.count("data:image/png;base64,") >= 3 + 1 + 1  # fans, boxes, one tornado
    csv = pd.read_csv(report.with_name("report-kpis.csv"))
    parquet = pd.read_parquet(report.with_name("report-kpis.parquet"))
    assert len(csv) == len(parquet) == 6 * 3
    kpis, axes = collect_kpis(out)
    assert axes == ["parameters.fertility_multiplier"]
    # independent reference: the rows of each run's own kpis.parquet
    one = tasks[4]
    own = pd.read_parquet(out / one.task_id / "kpis.parquet")
    mine = parquet[parquet["task_id"] == one.task_id].sort_values("year")
    np.testing.assert_array_equal(mine["population"].to_numpy(), own["population"].to_numpy())
    assert (mine["parameters.fertility_multiplier"] == 1.3).all()
    table = sensitivity(kpis, axes, ["population", "pupils_primary"]).set_index("kpi")
    last = kpis[kpis["year"] == kpis["year"].max()]
    lo = last.loc[last["parameters.fertility_multiplier"] == 0.7, "pupils_primary"].mean()
    hi = last.loc[last["parameters.fertility_multiplier"] == 1.3, "pupils_primary"].mean()
    mean = last["pupils_primary"].mean()
    row = table.loc["pupils_primary"]
    assert (row["low_value"], row["high_value"]) == (0.7, 1.3)
    assert row["low_effect"] == pytest.approx(lo / mean - 1)
    assert row["high_effect"] == pytest.approx(hi / mean - 1)
    assert row["width"] > table.loc["population", "width"] > 0
    # a run folder lost after the batch: one clear error, not a traceback
    (out / one.task_id / "kpis.parquet").unlink()
    with pytest.raises(RunError, match=f"task {one.task_id} .*kpis.parquet is missing"):
        collect_kpis(out)


@pytest.mark.slow
def test_real_sweep_identical_on_local_pool_and_dask_cluster(tmp_path):
    sweep = make_sweep(tmp_path, real=True)
    local, dask_out = tmp_path / "local", tmp_path / "dask"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, str(REPO / "main.py"), "batch", str(sweep), "--workers", "2"]
    done = subprocess.run([*cmd, "--out", str(local)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "6 done" in done.stdout

    tasks = expand_sweep(load_sweep(sweep))
    with local_dask_cluster(2) as cluster:
        summary = run_batch(tasks, dask_out, scheduler=cluster.scheduler_address, progress=False)
    assert (summary.done, summary.failed) == (6, 0)

    a, b = assert_clean(local, 6), assert_clean(dask_out, 6)
    assert a["kpis"].tolist() == b["kpis"].tolist()
    for task in tasks:
        for table in ("kpis", "enrollment", "links"):
            pd.testing.assert_frame_equal(
                pd.read_parquet(local / task.task_id / f"{table}.parquet"),
                pd.read_parquet(dask_out / task.task_id / f"{table}.parquet"),
            )
    # replications differ, variants differ: the sweep is not degenerate
    assert a["kpis"].map(lambda k: k["vkt"]).nunique() == 6
    report = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "batch-report", str(local)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert report.returncode == 0, report.stderr
    assert (local / "batch-report-kpis.parquet").exists()
