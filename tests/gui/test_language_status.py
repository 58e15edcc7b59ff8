"""A language switch leaves no status message in the language before it."""

from __future__ import annotations

from typing import Any


def test_a_language_switch_clears_the_status_message(window: Any) -> None:
    window.status("Saved /tmp/new-school.yaml")
    window.set_language("en")
    assert window.statusBar().currentMessage() == ""
    window.set_cjk_font(None)
    window.set_language("zh")  # no CJK font: stays English, and says why
    assert window.statusBar().currentMessage() == (
        "No CJK font found: Chinese is not available, staying in English."
    )
