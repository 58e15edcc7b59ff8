"""``main.py import-city``: build a city GeoPackage from a district's own files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "import-city"
HELP = "Import a district (roads, zones, population or register, schools, sites) into a city."
DESCRIPTION = """\
Build a city GeoPackage (the format of geodata/default_city.gpkg) from the files named
in a YAML config: an OpenStreetMap extract, zones, a population table or a person
register (aggregated on import; no person-level row is written), schools, development
sites, and optionally jobs and car parks. Lon/lat inputs may be WGS84, GCJ-02 or BD-09.
Every problem is reported as an error (exit status 2, nothing written) or a warning
(the import continues), naming the row or feature; --report also writes the report as
HTML (after errors too), --json prints it as JSON instead of the summary. A default
scenario for the city (no policies, a trip length that fits its size) is written next
to it: OUT.gpkg -> OUT.scenario.yaml.
The config keys are listed in sim/cityimport/config.py and the README.

example:
  main.py import-city district.yaml --out district.gpkg --report district_report.html
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the import-city flags."""
    parser.add_argument("config", type=Path, help="import config (YAML)")
    parser.add_argument("--out", type=Path, required=True, help="city GeoPackage to write")
    parser.add_argument("--report", type=Path, default=None, help="write the report as HTML")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def main(args: argparse.Namespace) -> int:
    """Run import-city: 0 when written, 2 after errors."""
    from sim.cityimport.build import import_city
    from sim.outputs import check_output_file

    check_output_file(args.out, field="out")
    if args.report is not None:
        check_output_file(args.report, field="report")
    city, report = import_city(args.config, args.out)
    if args.report is not None:
        report.write_html(args.report)
    print(report.to_json() if args.json else report.summary())
    if city is not None:
        from sim.cityimport.scenario import write_default_scenario

        scenario = write_default_scenario(city, args.out)
        print(f"default scenario: {scenario}", file=sys.stderr if args.json else sys.stdout)
    if not report.ok:
        first = report.errors[0]
        print(
            f"error: {first.message}" + (f" ({first.item})" if first.item else ""), file=sys.stderr
        )
        return 2
    return 0
