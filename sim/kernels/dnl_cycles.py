"""Cycles of waiting front vehicles in the dynamic loading (numba), for the node's priority.

A front vehicle that waits for room on a full link is an edge of the wait graph (its link
→ the link it wants; each link has at most one). A cycle of such edges is a locked
loop: no vehicle on it moves until one is teleported past the full links
(:func:`sim.kernels.dnl.simulate`'s time-to-teleport). The place that frees then must go
to the cycle's own waiting vehicle, or another vehicle entering from outside the cycle
takes it and the cycle stays full: the node gives it priority (``cycle_pred``).
"""

from __future__ import annotations

from numba import njit

#: How often (s) the wait graph's cycles are found again.
CYCLE_CHECK_S = 30.0


@njit(cache=True, error_model="numpy")
def find_cycles(wait_since, count, buf, buf_start, head, nxt, target, state, walk, cycle_pred):
    """``cycle_pred[m]``: the link of a wait cycle whose front waits to enter ``m`` (−1: none).

    ``wait_since[l] >= 0`` where the front of link ``l`` waits for room on ``nxt`` of its
    vehicle; ``target``, ``state`` and ``walk`` are work arrays of one entry per link.
    Every cycle of the wait graph is found (a walk from each unvisited link, as in a
    functional graph: each link waits for at most one).
    """
    n_links = len(count)
    for ln in range(n_links):
        target[ln] = -1
        if count[ln] > 0 and wait_since[ln] >= 0:
            target[ln] = nxt[buf[buf_start[ln] + head[ln]]]
        state[ln] = 0  # 0 new, 1 on the current walk, 2 done
        cycle_pred[ln] = -1
    for start in range(n_links):
        if state[start] != 0 or target[start] < 0:
            continue
        n = 0
        x = start
        while x >= 0 and state[x] == 0:
            state[x] = 1
            walk[n] = x
            n += 1
            x = target[x]
        if x >= 0 and state[x] == 1:  # the walk closed on itself: a new cycle through x
            y = x
            while True:
                cycle_pred[target[y]] = y
                y = target[y]
                if y == x:
                    break
        for i in range(n):
            state[walk[i]] = 2


@njit(cache=True, error_model="numpy")
def yields_to_cycle(ln, m, t_end, cycle_pred, count, buf, buf_start, head, ready, nxt):
    """Whether link ``ln``'s front must leave room on ``m`` to a locked cycle's front.

    True when another link of a wait cycle waits to enter ``m`` with its front at the stop
    line, wanting ``m`` (found by :func:`find_cycles` at most :data:`CYCLE_CHECK_S` ago).
    """
    p = cycle_pred[m]
    if p < 0 or p == ln or count[p] == 0:
        return False
    v = buf[buf_start[p] + head[p]]
    return nxt[v] == m and ready[v] < t_end
