"""Bench: responsiveness of the desktop on the default city (offscreen Qt).

Usage: python bench/gui.py [--quick] [--json] [--runs FOLDER] [--why]

Measured in one process, on this machine:

- ``import_s``: importing PySide6, matplotlib and the GUI modules (not counted in open time).
- ``open_s``: constructing the main window, opening scenarios/default.yaml (loading the
  city) and drawing the map once (target: under 3 s).
- ``redraw_ms``: redrawing the map after a pan/zoom or a layer switch (median and max over
  a sequence of views; target: under 200 ms). Roads are one ``LineCollection`` of every
  undirected road (~20k), drawn as compound paths (one per width and colour class). Named
  peers, drawn alone in the same figure size on the same roads (all of them without
  ``--quick``): the naive way, one ``Line2D`` artist per road, and one ``LineCollection``;
  ``ratio_*`` = peer time / our time.
- ``max_ui_stall_ms``: the longest stretch the UI thread did not turn (a 10 ms timer's
  largest gap minus 10 ms) across opening the default scenario, loading a run in Results,
  comparing two runs, switching the language (to Chinese and back where a CJK font is
  installed), exporting the comparison report and printing the map layout (PDF); goal at
  most 100, never over 200. ``stall_ms_<action>`` gives each, timed until its background
  work and the redraws it asked for (matplotlib's pending ``draw_idle``) are done, so a
  redraw is counted to the action that caused it; ``stall_ms_map_tab`` (the switch back to
  the map before the print layout, not in the maximum) the same way. With ``--why``,
  ``stall_where_<action>`` names our function the UI thread was in for most of the
  longest stall (a stack sampler), and after ``>`` the library call it was in (a redraw
  fired from inside a nested event loop shows as ``run_and_wait > backend_qt.py:...``),
  to find what to move off the UI thread. The two runs
  (default and road-closure, 2 years x 1 replication) are made first, headless, or taken
  from ``--runs FOLDER``.
- ``pan_redraw_ms``: median redraw of the map after a pan (a shift of a tenth of the view):
  the render when a drag ends, which the window does in a worker thread.
  ``pan_snapshot_ms``: median time the UI thread spends on such a redraw (the snapshot of
  the figure it hands to the worker). ``drag_frame_ms``: median paint of one frame
  during a drag, where the last picture slides with the pointer instead of being
  rendered again.
- ``run_block_ms``: the longest stretch the UI thread did not turn during a 2-year,
  1-replication run started from the run panel (a 10 ms timer's largest gap minus 10 ms;
  target: under 100 ms). ``cancel_s``: from Cancel to the run panel being idle again, for
  a second run cancelled at its first progress message. Skipped with ``--quick``.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TICK_MS = 10


def _wait(app: object, done: object, timeout_s: float) -> None:
    end = time.monotonic() + timeout_s
    while not done() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.002)


def _redraws(win: object, n: int) -> list[float]:
    """Draw times (ms) over pans, zooms and layer switches of the main map."""
    mapview = win.map
    (x0, x1), (y0, y1) = mapview.view_limits()
    w, h = x1 - x0, y1 - y0
    times = []
    for i in range(n):
        if i % 4 == 3:
            layer = ("roads", "zones", "schools")[i % 3]
            mapview.set_layer_visible(layer, not mapview.layer_visible(layer))
        else:
            zoom = (1.0, 0.5, 0.25)[i % 3]
            cx = x0 + w * (0.3 + 0.4 * ((i * 37) % 11) / 10)
            cy = y0 + h * (0.3 + 0.4 * ((i * 53) % 11) / 10)
            mapview.ax.set_xlim(cx - w * zoom / 2, cx + w * zoom / 2)
            mapview.ax.set_ylim(cy - h * zoom / 2, cy + h * zoom / 2)
        t = time.perf_counter()
        mapview.canvas.draw()
        times.append(1000 * (time.perf_counter() - t))
    for layer in ("roads", "zones", "schools"):
        mapview.set_layer_visible(layer, True)
    return times


def _pans(win: object, n: int) -> list[float]:
    """Redraw times (ms) of the main map after pans of a tenth of the view."""
    mapview = win.map
    mapview.canvas.draw()
    (x0, x1), (y0, y1) = mapview.view_limits()
    times = []
    for i in range(n):
        dx = (x1 - x0) * 0.1 * (1 if i % 4 < 2 else -1)
        dy = (y1 - y0) * 0.1 * (1 if i % 2 else -1)
        (a0, a1), (b0, b1) = mapview.view_limits()
        mapview.ax.set_xlim(a0 + dx, a1 + dx)
        mapview.ax.set_ylim(b0 + dy, b1 + dy)
        t = time.perf_counter()
        mapview.canvas.draw()
        times.append(1000 * (time.perf_counter() - t))
    mapview.set_view_limits((x0, x1), (y0, y1))
    return times


def _snapshots(app: object, win: object, n: int) -> list[float]:
    """UI-thread time (ms) of asking the main map to redraw after pans of a tenth of the view.

    The map is rendered in a worker; the UI thread only takes the snapshot (a pickle of
    the figure) when the request's turn of the event loop comes.
    """
    mapview = win.map
    canvas = mapview.canvas
    (x0, x1), (y0, y1) = mapview.view_limits()
    times = []
    for i in range(n):
        _wait(app, lambda: not canvas.rendering, 60)
        dx = (x1 - x0) * 0.1 * (1 if i % 4 < 2 else -1)
        (a0, a1), _ = mapview.view_limits()
        mapview.ax.set_xlim(a0 + dx, a1 + dx)
        canvas.draw_idle()
        t = time.perf_counter()
        app.processEvents()  # the request's turn: the snapshot, then the worker starts
        times.append(1000 * (time.perf_counter() - t))
    _wait(app, lambda: not canvas.rendering, 60)
    mapview.set_view_limits((x0, x1), (y0, y1))
    return times


def _ours(frame: object) -> bool:
    name = frame.f_code.co_filename
    return "site-packages" not in name and ("/gui/" in name or "/sim/" in name)


def _label(frame: object) -> str:
    path = Path(frame.f_code.co_filename)
    return f"{path.parent.name}/{path.name}:{frame.f_code.co_name}"


def _place(frame: object) -> str:
    """Our innermost function on the stack, and the library call it is in (if any).

    A library function entered straight from the event loop (a matplotlib ``draw_idle``
    firing inside a nested loop) is named after ours, so that a redraw is not blamed on
    the function that happens to run the loop.
    """
    inner, callee = frame, None
    while frame is not None and not _ours(frame):
        callee, frame = frame, frame.f_back
    if frame is None:  # in the event loop: say which library
        return "" if inner is None else f"event loop: {_label(inner).split('/', 1)[1]}"
    where = _label(frame)
    return where if callee is None else f"{where} > {_label(callee).split('/', 1)[1]}"


class _Sampler:
    """Samples the UI thread's stack every few ms, to say where a stall was spent (--why)."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, str]] = []
        self.main = threading.main_thread().ident
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            frame = sys._current_frames().get(self.main)
            self.samples.append((time.perf_counter(), _place(frame)))
            time.sleep(0.003)

    def where(self, a: float, b: float) -> str:
        """The most sampled place between times ``a`` and ``b`` (with its share)."""
        seen = collections.Counter(w for t, w in self.samples if a <= t <= b)
        if not seen:
            return "no sample (one C call held the GIL)"
        place, n = seen.most_common(1)[0]
        return f"{place} ({100 * n / sum(seen.values()):.0f} %)"


_SAMPLER: list[_Sampler] = []  # one when --why
_WHERE: dict[str, str] = {}


def _drag_frames(win: object, n: int) -> list[float]:
    """Paint times (ms) of the map during a drag (the last picture slid, not re-rendered)."""
    canvas = win.map.canvas
    canvas.draw()
    times = []
    for i in range(n):
        canvas.slide(7.0 * i, 3.0 * i)
        t = time.perf_counter()
        canvas.repaint()
        times.append(1000 * (time.perf_counter() - t))
    canvas.settle()
    return times


def _stall(
    app: object, action: object, done: object, timeout_s: float = 600, name: str = ""
) -> float:
    """Longest UI-thread block (ms) from calling ``action()`` until ``done()`` holds."""
    from PySide6.QtCore import QTimer

    stamps = [time.perf_counter()]
    timer = QTimer()
    timer.timeout.connect(lambda: stamps.append(time.perf_counter()))
    timer.start(TICK_MS)
    action()
    _wait(app, done, timeout_s)
    stamps.append(time.perf_counter())
    timer.stop()
    gap, a, b = max((y - x, x, y) for x, y in itertools.pairwise(stamps))
    if _SAMPLER and name:
        _WHERE[name] = _SAMPLER[0].where(a, b)
    return max(0.0, 1000 * gap - TICK_MS)


def _two_runs(folder: Path | None) -> list[Path]:
    """Finished default and road-closure runs (2 years x 1 replication), made when needed."""
    from sim import settings
    from sim.runs.catalog import Catalog
    from sim.runs.run import run_scenario
    from sim.scenario import load_scenario, scenario_from_dict

    folder = folder or Path(tempfile.mkdtemp(prefix="gui-bench-runs-"))
    out = []
    for name in ("default", "road-closure"):
        done = Catalog(folder).latest(name)
        if done is not None:
            out.append(Path(done))
            continue
        data = load_scenario(settings.scenarios_folder / f"{name}.yaml").model_dump(mode="json")
        data |= {"years": 2, "replications": 1}
        out.append(run_scenario(scenario_from_dict(data), folder))
    return out


def _idle(win: object) -> bool:
    """No background task runs and no figure of ``win`` waits for its (idle) redraw.

    A map's redraw is rendered off the UI thread (``MapCanvas.rendering``); matplotlib's
    other canvases draw on it (``_draw_pending``).
    """
    from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg

    from gui import background

    canvases = win.findChildren(FigureCanvasQTAgg)
    waiting = (
        getattr(c, "_draw_pending", False) or getattr(c, "rendering", False) for c in canvases
    )
    return not background.busy() and not any(waiting)


def _stalls(app: object, runs: list[Path], extra: dict[str, float]) -> dict[str, float]:
    """UI-thread stalls (ms) of open, results, compare, language, export and print layout.

    Each action is timed until its work and the redraws it asked for are done.
    ``extra`` gets the switch back to the map tab before the print layout.
    """
    from gui import background, maproads
    from gui.fonts import find_cjk_font, install_cjk_font
    from gui.mainwindow import MainWindow
    from sim import settings

    win = MainWindow(runs[0].parent, headless=True)
    win.resize(1400, 900)
    win.show()
    app.processEvents()
    idle = lambda: _idle(win)  # noqa: E731
    out = {}
    default = settings.scenarios_folder / "default.yaml"
    background._CITIES.clear()  # open as at start-up: the city is read, not cached
    maproads._CACHE.clear()
    out["open"] = _stall(
        app,
        lambda: win.open_scenario(default),
        lambda: win.city is not None and idle(),
        name="open",
    )
    win.map.canvas.draw()
    out["results"] = _stall(
        app,
        lambda: win.tabs.setCurrentWidget(win.results),
        lambda: win.results.run is not None and idle(),
        name="results",
    )
    win.tabs.setCurrentWidget(win.compare)
    app.processEvents()
    win.compare.choose(runs[0], [runs[1]])
    out["compare"] = _stall(
        app,
        win.compare.compare_button.click,
        lambda: win.compare.comparison is not None and idle(),
        name="compare",
    )
    font = find_cjk_font()
    if font is not None:
        install_cjk_font(font)
        win.set_cjk_font(font)
    out["language"] = max(
        _stall(app, lambda: win.set_language("zh"), idle, name="language_zh"),
        _stall(app, lambda: win.set_language("en"), idle, name="language_en"),
    )
    folder = Path(tempfile.mkdtemp(prefix="gui-bench-export-"))
    out["export"] = _stall(
        app, lambda: win.export("report", folder / "report.html"), idle, name="export"
    )
    extra["map_tab"] = _stall(app, lambda: win.tabs.setCurrentIndex(0), idle, name="map_tab")
    out["print_layout"] = _stall(
        app, lambda: win.map.export_layout(folder / "map.pdf"), idle, name="print_layout"
    )
    win.doc.undo_stack.setClean()
    win.close()
    return out


def _peer(win: object, sample: int) -> dict[str, float]:
    """Redraw times (ms) of ``sample`` roads: ours, one LineCollection, one Line2D each."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import PathPatch

    roads = win.map.roads
    segments = roads.segments[:sample]
    mask = np.zeros(len(roads.segments), dtype=bool)
    mask[:sample] = True
    size = win.map.figure.get_size_inches()

    def draw(fill: object) -> float:
        fig = Figure(figsize=size)
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        fill(ax)
        ax.autoscale_view()
        canvas.draw()  # first draw builds caches; time the redraw, as after a pan
        t = time.perf_counter()
        canvas.draw()
        return 1000 * (time.perf_counter() - t)

    return {
        "ours": draw(lambda ax: ax.add_patch(PathPatch(roads.path(mask), fill=False, lw=0.7))),
        "collection": draw(lambda ax: ax.add_collection(LineCollection(segments, lw=0.7))),
        "artists": draw(
            lambda ax: [ax.plot(s[:, 0], s[:, 1], lw=0.7, color="grey") for s in segments]
        ),
    }


def _run_block(app: object, win: object) -> dict[str, float]:
    """Largest UI-thread stall during a short run, and the time Cancel takes."""
    from PySide6.QtCore import QTimer

    panel = win.run_panel
    panel.years.setValue(2)
    panel.replications.setValue(1)
    stamps: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: stamps.append(time.perf_counter()))
    timer.start(TICK_MS)
    t0 = time.perf_counter()
    panel.start()
    _wait(app, lambda: not panel.running, 600)
    run_s = time.perf_counter() - t0
    timer.stop()
    gaps = [1000 * (b - a) for a, b in itertools.pairwise(stamps)]
    out = {"run_s": run_s, "run_block_ms": max(gaps) - TICK_MS, "ticks": len(stamps)}
    panel.years.setValue(10)
    panel.start()
    _wait(app, lambda: "replication" in panel.stage.text() or not panel.running, 300)
    t = time.perf_counter()
    panel.cancel()
    _wait(app, lambda: not panel.running, 30)
    out["cancel_s"] = time.perf_counter() - t
    out["cancel_outcome"] = panel.process.outcome[0] if panel.process else "none"
    return out


def main() -> int:
    """Run the bench and print a table (or one JSON object with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the run; fewer redraws")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--runs", type=Path, help="folder with (or for) the two runs compared")
    parser.add_argument("--why", action="store_true", help="say where each stall was spent")
    args = parser.parse_args()
    if args.why:
        _SAMPLER.append(_Sampler())

    t = time.perf_counter()
    from PySide6.QtWidgets import QApplication

    from gui.mainwindow import MainWindow
    from gui.mapview import configure_matplotlib
    from sim import settings

    app = QApplication.instance() or QApplication([])
    configure_matplotlib()
    import_s = time.perf_counter() - t

    runs = Path(tempfile.mkdtemp(prefix="gui-bench-"))
    t = time.perf_counter()
    win = MainWindow(runs, headless=True)
    win.resize(1400, 900)
    win.open_scenario(settings.scenarios_folder / "default.yaml")
    win.show()
    app.processEvents()
    win.map.canvas.draw()
    open_s = time.perf_counter() - t

    redraw = _redraws(win, 12 if args.quick else 40)
    pans = _pans(win, 8 if args.quick else 24)
    drags = _drag_frames(win, 8 if args.quick else 24)
    snapshots = _snapshots(app, win, 8 if args.quick else 24)
    sample = 3000 if args.quick else len(win.map.roads.segments)
    peer = _peer(win, sample)
    result: dict[str, object] = {
        "bench": "gui",
        "city_roads": len(win.map.roads.segments),
        "city_links": len(win.city.links),
        "import_s": round(import_s, 3),
        "open_s": round(open_s, 3),
        "redraw_ms_median": round(statistics.median(redraw), 1),
        "redraw_ms_max": round(max(redraw), 1),
        "pan_redraw_ms": round(statistics.median(pans), 1),
        "drag_frame_ms": round(statistics.median(drags), 1),
        "pan_snapshot_ms": round(statistics.median(snapshots), 1),
        "peer": "matplotlib: one Line2D artist per road; one LineCollection",
        "peer_sample_roads": sample,
        "roads_ms_ours": round(peer["ours"], 1),
        "roads_ms_linecollection": round(peer["collection"], 1),
        "roads_ms_per_artist": round(peer["artists"], 1),
        "ratio_per_artist_vs_ours": round(peer["artists"] / peer["ours"], 1),
        "ratio_linecollection_vs_ours": round(peer["collection"] / peer["ours"], 2),
    }
    extra: dict[str, float] = {}
    stalls = _stalls(app, _two_runs(args.runs), extra)
    result["max_ui_stall_ms"] = round(max(stalls.values()), 1)
    result.update({f"stall_ms_{k}": round(v, 1) for k, v in (stalls | extra).items()})
    result.update({f"stall_where_{k}": v for k, v in _WHERE.items()})
    if not args.quick:
        result.update(
            {
                k: (round(v, 3) if isinstance(v, float) else v)
                for k, v in _run_block(app, win).items()
            }
        )
    win.doc.undo_stack.setClean()
    win.close()
    if args.json:
        print(json.dumps(result))
    else:
        width = max(len(k) for k in result)
        for key, value in result.items():
            print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
