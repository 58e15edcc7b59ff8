"""The whole 入学早知道 answer reads in the current language, numbers with separators."""

from __future__ import annotations

import re

from gui import i18n
from gui.query_text import answer_text

P13 = {"school_id": "P13", "name": "Escuela Básica P13", "distance_km": 0.66}
P47 = {"school_id": "P47", "name": "Escuela Básica P47", "distance_km": 1.52}
J24 = {"school_id": "J24", "name": "Liceo J24", "distance_km": 0.9}
ANSWER = {
    "run_id": "base-ce8dd90bfb",
    "projection": [2024, 2025],
    "zone_id": 108,
    "catchment_year": 2024,
    "catchment": {"primary": P13, "junior": J24},
    "birth_year": 2019,
    "entries": [
        {
            "months": [1, 8],
            "primary": {
                "grade": 1,
                "year": 2025,
                "school": P13,
                "capacity": 1225,
                "demand_p50": 1231.0,
                "utilisation_pct": 100.5,
                "utilisation_p10_pct": 99.0,
                "utilisation_p90_pct": 102.0,
                "place_probability": 0.974,
                "status": "likely full",
                "overflow_school": P47,
            },
            "junior": {"grade": 7, "year": 2031, "school": J24, "status": "beyond projection"},
        }
    ],
}
DATA = ("Escuela Básica P13", "Escuela Básica P47", "Liceo J24", "base-ce8dd90bfb")


def test_answer_in_english_names_every_part():
    text = answer_text(ANSWER, 6, "08-31")
    assert "zone 108" in text and "by 31 Aug" in text
    assert "demand 1,231 for 1,225 places" in text  # separators, not 1231.0
    assert "chance of a place there 97%" in text and "overflow school: Escuela Básica P47" in text
    assert "entry in 2031 is beyond the projection (ends 2025)" in text
    assert "Born Jan–Aug 2019:" in text


def test_answer_in_chinese_has_no_english_left():
    i18n.set_language("zh", cjk_font=True)
    text = answer_text(ANSWER, 6, "08-31")
    i18n.set_language("en", cjk_font=False)
    for name in DATA:
        text = text.replace(name, "")
    assert not re.search(r"[A-Za-z]{2,}", text), text
    assert "1,231" in text and "97%" in text and "8月31日" in text
