"""Start the desktop app: ``python main.py`` or ``python main.py gui [options]``.

``python main.py gui --screenshot FILE.png [--scenario S] [--view map|editor|results|compare]``
opens the window (offscreen when there is no display), lets it render, saves a screenshot
and exits with status 0 (2 when the scenario or the screenshot fails).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gui.mainwindow import MainWindow

EXIT_ERROR = 2
#: Libraries Qt's xcb platform plugin loads that fresh Debian/Ubuntu desktops may lack,
#: with their packages (Qt's own error names only the first one missing).
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
}
XCB_APT_LINE = "sudo apt-get install " + " ".join(XCB_LIBRARIES.values())


def build_parser() -> argparse.ArgumentParser:
    """The ``main.py gui`` argument parser."""
    from gui.mainwindow import VIEWS

    parser = argparse.ArgumentParser(
        prog="main.py gui",
        description="The CitySandbox desktop: edit a scenario on the map, run it, compare runs.",
    )
    parser.add_argument(
        "--scenario", type=Path, help="scenario YAML to open (default: scenarios/default.yaml)"
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="FILE.png",
        help="render the window headless, save a PNG and exit",
    )
    parser.add_argument("--view", choices=VIEWS, default="map", help="view to show (default: map)")
    parser.add_argument("--runs", type=Path, help="runs folder (default: ./runs)")
    parser.add_argument("--lang", choices=("en", "zh"), help="interface language")
    parser.add_argument(
        "--size", type=_window_size, default="1400x900", help="window size WxH (default 1400x900)"
    )
    return parser


def _window_size(text: str) -> tuple[int, int]:
    """``"1400x900"`` -> (1400, 900); anything else is a usage error (exit status 2)."""
    width, sep, height = text.lower().partition("x")
    if not (sep and width.isdigit() and height.isdigit() and int(width) and int(height)):
        msg = f"{text!r} is not a window size; give WIDTHxHEIGHT in pixels, e.g. 1400x900"
        raise argparse.ArgumentTypeError(msg)
    return int(width), int(height)


def missing_extra() -> str | None:
    """The install line for the ``gui`` extra when PySide6 is not installed, else None."""
    from importlib.util import find_spec

    try:
        if find_spec("PySide6") is not None:
            return None
    except (ImportError, ValueError):  # a broken or blocked install counts as missing
        pass
    return "pip install 'citysandbox[gui]'"


def main(argv: list[str]) -> int:
    """Open the app (or take a screenshot) and return the exit status."""
    install = missing_extra()
    if install is not None:
        print(
            f"error: the desktop app needs the 'gui' extra (PySide6), not installed; {install}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    args = build_parser().parse_args(argv)
    if not _has_display():
        if args.screenshot is None:
            print(
                "error: no display to open the window on; use --screenshot FILE.png, "
                "or set QT_QPA_PLATFORM=offscreen",
                file=sys.stderr,
            )
            return EXIT_ERROR
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    missing = missing_xcb_packages()
    if missing:
        print(
            f"error: Qt's xcb platform plugin cannot start: {', '.join(missing)} missing; "
            f"on Debian/Ubuntu: {XCB_APT_LINE}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    from PySide6.QtWidgets import QApplication

    from gui.fonts import find_cjk_font, install_cjk_font
    from gui.mainwindow import MainWindow, app_settings
    from gui.mapview import configure_matplotlib
    from gui.workspace import restore_workspace, saved_scenario
    from sim import settings

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("CitySandbox")
    configure_matplotlib()
    font = find_cjk_font()
    if font is not None:
        install_cjk_font(font)
    window = MainWindow(args.runs, headless=args.screenshot is not None, cjk_font=font)
    window.set_language(args.lang or str(app_settings().value("language", "en")))
    window.resize(*args.size)
    restore = args.scenario is None and args.screenshot is None  # the last workspace
    scenario = (
        args.scenario
        or (restore and saved_scenario())
        or settings.scenarios_folder / "default.yaml"
    )
    if not window.open_scenario(scenario):
        if args.screenshot is not None:
            return EXIT_ERROR
        window.new_scenario()
    if restore:
        restore_workspace(window)
    window.show()
    if args.screenshot is None:
        return app.exec()
    return screenshot(window, args.view, args.screenshot)


def missing_xcb_packages() -> list[str]:
    """The packages of :data:`XCB_LIBRARIES` that cannot be loaded, when Qt will use xcb.

    Qt aborts the process (no exception) when its xcb plugin cannot load, so this is checked
    before the application starts. Empty off Linux, under Wayland or another platform.
    """
    import ctypes

    platform = os.environ.get("QT_QPA_PLATFORM", "")
    uses_xcb = platform == "xcb" or (not platform and not os.environ.get("WAYLAND_DISPLAY"))
    if not (sys.platform.startswith("linux") and uses_xcb and os.environ.get("DISPLAY")):
        return []
    missing = []
    for library, package in XCB_LIBRARIES.items():
        try:
            ctypes.CDLL(library)
        except OSError:
            missing.append(package)
    return missing


def _has_display() -> bool:
    """Whether Qt can open a window here (a display, a platform that needs none, or offscreen)."""
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def screenshot(window: MainWindow, view: str, path: Path) -> int:
    """Show ``view``, render every canvas, save the window as PNG; 0 on success."""
    from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
    from PySide6.QtWidgets import QApplication

    from sim.errors import CitySandboxError

    window.statusBar().clearMessage()
    try:
        window.show_view(view)
    except CitySandboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
    for _ in range(3):
        QApplication.processEvents()
        for canvas in window.findChildren(FigureCanvasQTAgg):
            if canvas.isVisible():
                canvas.draw()
    QApplication.processEvents()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        print(f"error: could not write the screenshot {path}", file=sys.stderr)
        return EXIT_ERROR
    print(path)
    return 0
