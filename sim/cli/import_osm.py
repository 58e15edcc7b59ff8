"""``main.py import-osm``: build a city road layer from an OpenStreetMap extract."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.outputs import check_output_file
from sim.traffic.osm import SUFFIXES, import_osm, write_road_layer
from sim.traffic.road_classes import STANDARDS

NAME = "import-osm"
HELP = "Build a road layer (nodes, directed links, signals) from an OSM extract file."
DESCRIPTION = f"""\
Build the road layers of a city GeoPackage (nodes, links, signals) from an
OpenStreetMap file ({", ".join(SUFFIXES)}); nothing is downloaded. Drivable highway
types are kept, lanes/speeds/capacities come from the lanes, maxspeed and oneway tags
or a default table per highway class (--standard international|china, see
sim/traffic/road_classes.py), signals from highway=traffic_signals nodes. The result is
projected to the UTM zone of the data (or --crs) and reduced to its largest strongly
connected component; the pieces dropped are listed. .osm.pbf needs the 'osmium' Python
package.

example:
  main.py import-osm la_serena.osm --out roads.gpkg
  main.py import-osm streets.graphml --out roads.gpkg --crs EPSG:32719
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the import-osm flags."""
    parser.add_argument("file", type=Path, help="OSM extract (.osm, .osm.pbf) or osmnx .graphml")
    parser.add_argument("--out", type=Path, required=True, help="GeoPackage to write")
    parser.add_argument(
        "--crs", default=None, help="projected CRS in metres, e.g. EPSG:32719 (default: UTM)"
    )
    parser.add_argument(
        "--standard",
        choices=sorted(STANDARDS),
        default="international",
        help="default lanes/speeds/capacities per highway class (default: international)",
    )
    parser.add_argument(
        "--simplify",
        action="store_true",
        help="merge links through nodes that only join two equal links (way breaks, bends)",
    )


def main(args: argparse.Namespace) -> int:
    """Run import-osm."""
    check_output_file(args.out)  # before the work: a folder or read-only --out fails now
    layer = import_osm(args.file, args.crs, args.standard, simplified=args.simplify)
    write_road_layer(layer, args.out)
    signals = len(layer.signals)
    km = layer.links["length_m"].sum() / 1000.0
    print(
        f"{args.out}: {len(layer.nodes)} nodes, {len(layer.links)} directed links "
        f"({km:.1f} km), {signals} signals, CRS {layer.crs.to_string()}"
    )
    if len(layer.dropped):
        print(
            f"dropped {len(layer.dropped)} pieces outside the largest strongly connected part"
            f" ({int(layer.dropped['nodes'].sum())} nodes), largest at node"
            f" {int(layer.dropped['node_id'].iloc[0])}"
        )
    return 0
