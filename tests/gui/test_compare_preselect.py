"""The Compare tab opens with the newest run ticked against the one before it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from test_management import _fake_runs


def test_the_compare_tab_offers_the_newest_pair_and_keeps_a_choice(
    window: Any, tmp_path: Path, dialogs: dict[str, list]
) -> None:
    base, variant, newest = _fake_runs(tmp_path / "runs", ["default", "new-school", "toll"])
    compare = window.compare
    window.tabs.setCurrentWidget(compare)
    assert Path(compare.baseline.currentData()) == variant  # the one before the newest
    assert [Path(p) for p in compare.checked_runs()] == [newest]
    assert compare.comparison is None and not dialogs["critical"]  # ticked, not computed
    # the user's own choice stays when the tab is left and opened again
    compare.choose(base, [variant])
    window.tabs.setCurrentIndex(0)
    window.tabs.setCurrentWidget(compare)
    assert Path(compare.baseline.currentData()) == base
    assert [Path(p) for p in compare.checked_runs()] == [variant]
    # with every run unticked by hand the pair is offered again
    for i in range(compare.others.count()):
        compare.others.item(i).setCheckState(Qt.CheckState.Unchecked)
    window.tabs.setCurrentIndex(0)
    window.tabs.setCurrentWidget(compare)
    assert [Path(p) for p in compare.checked_runs()] == [newest]
