"""Road simplification: merge links through nodes that are only a bend or a way break.

OpenStreetMap breaks a street into several ways wherever a tag changes (a bridge, a
surface) or a mapper split it, so many nodes of the imported graph join exactly two
links in line. A node is merged away when

- it has exactly two neighbours ``u`` and ``w`` and is not a signal;
- traffic passes it one way (``u -> n -> w`` only) or both ways (``u -> n -> w`` and
  ``w -> n -> u``), with no other link at it;
- the links joined carry the same lanes, free speed, capacity, class and name;
- no link ``u -> w`` (or ``w -> u``) exists already, so no parallel links appear.

The merged link keeps the whole geometry. Intersections, dead ends, signals and every
change of attributes stay nodes, so lengths, capacities and routes are unchanged.
"""

from __future__ import annotations

from collections import defaultdict

from sim.traffic.osm_tags import _Roads, _Segment


def _same(a: _Segment, b: _Segment) -> bool:
    return (a.lanes, a.speed_kmh, a.capacity_vph, a.link_type, a.name) == (
        b.lanes,
        b.speed_kmh,
        b.capacity_vph,
        b.link_type,
        b.name,
    )


def simplify(roads: _Roads) -> int:
    """Merge links through pass-through nodes of ``roads`` in place; return nodes removed."""
    segs: dict[int, _Segment] = dict(enumerate(roads.segments))
    into: dict[int, set[int]] = defaultdict(set)
    out_of: dict[int, set[int]] = defaultdict(set)
    pairs: set[tuple[int, int]] = set()
    for k, seg in segs.items():
        out_of[seg.a_node].add(k)
        into[seg.b_node].add(k)
        pairs.add((seg.a_node, seg.b_node))
    next_id = len(segs)
    removed = 0
    for n in sorted(set(into) & set(out_of)):  # one pass: a chain collapses link by link
        joins = None if n in roads.signal_nodes else _joins(segs, into[n], out_of[n])
        if joins is None or any((segs[a].a_node, segs[b].b_node) in pairs for a, b in joins):
            continue
        for a, b in joins:
            first, second = segs.pop(a), segs.pop(b)
            merged = _Segment(
                first.a_node,
                second.b_node,
                first.coords + second.coords[1:],
                first.lanes,
                first.speed_kmh,
                first.capacity_vph,
                first.link_type,
                first.name,
            )
            out_of[first.a_node].discard(a)
            into[n].discard(a)
            out_of[n].discard(b)
            into[second.b_node].discard(b)
            pairs -= {(first.a_node, n), (n, second.b_node)}
            segs[next_id] = merged
            out_of[merged.a_node].add(next_id)
            into[merged.b_node].add(next_id)
            pairs.add((merged.a_node, merged.b_node))
            next_id += 1
        removed += 1
    roads.segments = [segs[k] for k in sorted(segs)]
    return removed


def _joins(
    segs: dict[int, _Segment], ins: set[int], outs: set[int]
) -> list[tuple[int, int]] | None:
    """The (incoming, outgoing) link pairs to merge at a node, or None to keep it."""
    neighbours = {segs[k].a_node for k in ins} | {segs[k].b_node for k in outs}
    if len(neighbours) != 2 or len(ins) != len(outs) or len(ins) not in (1, 2):
        return None
    joins = []
    for a in sorted(ins):
        onward = [b for b in sorted(outs) if segs[b].b_node != segs[a].a_node]
        if len(onward) != 1 or not _same(segs[a], segs[onward[0]]):
            return None
        joins.append((a, onward[0]))
    return joins
