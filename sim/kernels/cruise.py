"""The parking searcher's cruise walk round the blocks of its destination (numba)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def cruise_links(out_start, out_links, link_from, link_to, node_xy, kerb, fft_s, start, prev,
                 seconds, variant, revisit_m, no_kerb_m):  # fmt: skip
    """Street links a searcher drives from node ``start`` for ``seconds`` of free flow.

    At each node it takes the outgoing link (CSR ``out_start``/``out_links`` of the
    street links, int64) whose end is nearest to ``start``, counting ``revisit_m`` per
    earlier pass of the link and ``no_kerb_m`` where ``kerb`` (bool per link) is
    False; never back the way it came (``prev``: the link it arrived by, -1: none)
    unless that is the only way. The first link is the ``variant``-th best way out
    (modulo the ways there are). ``node_xy`` is ``(n_nodes, 2)`` float64 metres,
    ``fft_s`` float64 per link.

    Returns
    -------
    int64 array of the links in driving order: at least one, none if no street
    leaves ``start``.
    """
    gx, gy = node_xy[start, 0], node_xy[start, 1]
    walk = np.empty(16, np.int64)
    n, node, elapsed = 0, start, 0.0
    while elapsed < seconds or n == 0:
        k0, k1 = out_start[node], out_start[node + 1]
        back = link_from[prev] if prev >= 0 and k1 - k0 > 1 else -1
        cand = np.empty(k1 - k0, np.int64)
        m = 0
        for k in range(k0, k1):
            if link_to[out_links[k]] != back:
                cand[m] = out_links[k]
                m += 1
        if m == 0:
            break
        score = np.empty(m)
        for i in range(m):
            c = cand[i]
            end = link_to[c]
            s = np.hypot(node_xy[end, 0] - gx, node_xy[end, 1] - gy)
            s = s + (0.0 if kerb[c] else no_kerb_m)
            passes = 0
            for j in range(n):
                passes += walk[j] == c
            score[i] = s + revisit_m * passes
        rank = np.argsort(score, kind="mergesort")  # stable: ties keep the CSR order
        link = cand[rank[variant % m] if n == 0 else rank[0]]
        if n == len(walk):
            walk = np.concatenate((walk, np.empty(n, np.int64)))
        walk[n] = link
        n += 1
        elapsed += fft_s[link]
        node, prev = link_to[link], link
    return walk[:n]
