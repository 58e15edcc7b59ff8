"""The validation report of a city import: findings, counts, and its three renderings.

Every check of the import adds a :class:`Finding`: an **error** stops the import
(exit status 2, no city written) at the end of the step that found it; a **warning**
lets it continue. Each finding names its check (:data:`CHECKS`), the layer, and the row
or feature that caused it. The report renders as a terminal summary
(:meth:`ImportReport.summary`), JSON (:meth:`ImportReport.to_dict`) and a standalone
HTML page (:meth:`ImportReport.to_html`). It holds counts and identifiers of zones,
schools, sites and road pieces only: a register row is named by its row number, never
by its values.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CHECKS: dict[str, str] = {
    "config": "the config file: a missing or unknown key, a bad value, a missing file",
    "read": "a source file cannot be read",
    "column": "a column the config names is not in the file",
    "value": "a value is missing or not allowed",
    "duplicate_id": "an id repeats",
    "unmatched_id": "a table names zones that are not in the zones layer, or the reverse",
    "zone_without_population": "a zone has no residents",
    "no_road_access": "a zone has no road node inside it (joined to the nearest one outside)",
    "outside_zones": "a school, site or car park lies outside every zone",
    "dropped_roads": "road pieces cut off by the largest strongly connected part",
    "no_school": "a school level has no school",
    "city": "the written city fails the load-time checks of a city",
}
"""Check name -> what it is about."""


@dataclass
class Finding:
    """One problem found by an import check."""

    level: str
    """``"error"`` or ``"warning"``."""
    check: str
    """One of :data:`CHECKS`."""
    layer: str
    message: str
    item: str | None = None
    """The row or feature that caused it (e.g. ``"row 12"``, ``"zone 7"``)."""

    def line(self) -> str:
        """One line: ``error [layer/check] message (item)``."""
        where = f" ({self.item})" if self.item else ""
        return f"{self.level} [{self.layer}/{self.check}] {self.message}{where}"


class ImportStopped(Exception):
    """Raised inside the import when a step has found errors; carries no data."""


@dataclass
class ImportReport:
    """Findings and counts of one import."""

    name: str = ""
    config: str = ""
    crs: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    population_before: int | None = None
    population_after: int | None = None
    dropped_roads: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    written: str | None = None

    def error(self, check: str, layer: str, message: str, item: str | None = None) -> None:
        """Record an error (the import stops at the end of this step)."""
        self.findings.append(Finding("error", check, layer, message, item))

    def warning(self, check: str, layer: str, message: str, item: str | None = None) -> None:
        """Record a warning (the import continues)."""
        self.findings.append(Finding("warning", check, layer, message, item))

    @property
    def errors(self) -> list[Finding]:
        """The errors found."""
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """The warnings found."""
        return [f for f in self.findings if f.level == "warning"]

    @property
    def ok(self) -> bool:
        """No errors."""
        return not self.errors

    def stop_on_errors(self) -> None:
        """End the current step: raise :class:`ImportStopped` when there are errors."""
        if self.errors:
            raise ImportStopped

    # ------------------------------------------------------------------ renderings

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (``--json``)."""
        return {
            "name": self.name,
            "config": self.config,
            "ok": self.ok,
            "written": self.written,
            "crs": self.crs,
            "counts": dict(self.counts),
            "population_before": self.population_before,
            "population_after": self.population_after,
            "dropped_roads": list(self.dropped_roads),
            "errors": [asdict(f) for f in self.errors],
            "warnings": [asdict(f) for f in self.warnings],
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def summary(self) -> str:
        """The terminal summary: counts, CRS, population, then every finding."""
        status = "OK" if self.ok else f"FAILED ({len(self.errors)} errors)"
        lines = [f"import-city {self.name or self.config}: {status}"]
        if self.crs:
            lines.append(f"  CRS: {self.crs}")
        if self.counts:
            lines.append("  counts: " + ", ".join(f"{k} {v}" for k, v in self.counts.items()))
        if self.population_before is not None:
            after = "-" if self.population_after is None else str(self.population_after)
            lines.append(f"  population: {self.population_before} in the sources, {after} kept")
        if self.dropped_roads:
            nodes = sum(int(p["nodes"]) for p in self.dropped_roads)
            lines.append(f"  road pieces dropped: {len(self.dropped_roads)} ({nodes} nodes)")
        lines.append(f"  {len(self.errors)} errors, {len(self.warnings)} warnings")
        lines += [f"  {f.line()}" for f in self.errors + self.warnings]
        return "\n".join(lines)

    def to_html(self) -> str:
        """A standalone HTML page of the report."""
        esc = html.escape
        status = "OK" if self.ok else f"stopped: {len(self.errors)} errors"
        rows = "".join(
            f"<tr class='{f.level}'><td>{f.level}</td><td>{esc(f.layer)}</td>"
            f"<td>{esc(f.check)}</td><td>{esc(f.message)}</td><td>{esc(f.item or '')}</td></tr>"
            for f in self.errors + self.warnings
        )
        counts = "".join(f"<tr><td>{esc(k)}</td><td>{v}</td></tr>" for k, v in self.counts.items())
        pieces = "".join(
            f"<tr><td>{int(p['nodes'])}</td><td>{int(p['links'])}</td><td>{int(p['node_id'])}"
            f"</td><td>{float(p['x']):.0f}, {float(p['y']):.0f}</td></tr>"
            for p in self.dropped_roads
        )
        before = "" if self.population_before is None else str(self.population_before)
        after = "" if self.population_after is None else str(self.population_after)
        checks = "".join(f"<li><b>{esc(k)}</b>: {esc(v)}</li>" for k, v in CHECKS.items())
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>import-city {esc(self.name)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left}}
tr.error td{{background:#fdd}}tr.warning td{{background:#ffd}}</style></head><body>
<h1>City import: {esc(self.name)}</h1>
<p>Config: {esc(self.config)}<br>Status: <b>{esc(status)}</b><br>
CRS: {esc(self.crs or "")}<br>Written: {esc(self.written or "nothing")}</p>
<h2>Population</h2><p>In the sources: {before}; kept in the city: {after}</p>
<h2>Counts per layer</h2><table><tr><th>layer</th><th>features</th></tr>{counts}</table>
<h2>Findings ({len(self.errors)} errors, {len(self.warnings)} warnings)</h2>
<table><tr><th>level</th><th>layer</th><th>check</th><th>message</th><th>row / feature</th>
</tr>{rows}</table>
<h2>Road pieces dropped ({len(self.dropped_roads)})</h2>
<table><tr><th>nodes</th><th>links</th><th>a node</th><th>at (x, y)</th></tr>{pieces}</table>
<h2>Checks</h2><ul>{checks}</ul>
</body></html>
"""

    def write_html(self, path: str | Path) -> Path:
        """Write :meth:`to_html` to ``path``."""
        path = Path(path)
        path.write_text(self.to_html(), encoding="utf-8")
        return path
