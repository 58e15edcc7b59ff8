"""Signal control of the dynamic loading: who has green, and when adaptive greens end.

Kernels of :mod:`sim.kernels.dnl` (same arrays): ``nxt[v]`` is the link vehicle ``v``
takes next (−1: it leaves the network at the end of its link).
"""

from __future__ import annotations

import numpy as np
from numba import njit

FIXED, ACTUATED, MAX_PRESSURE = 0, 1, 2


@njit(cache=True, error_model="numpy")
def _moves_in(v, ln, bit, mov_start, mov_out, mov_mask, mov_turn_mask, nxt):
    """Whether vehicle ``v`` at the end of link ``ln`` has green in the phase ``bit``."""
    m = nxt[v]
    if m < 0:
        return True  # it leaves the network here
    for j in range(mov_start[ln], mov_start[ln + 1]):
        if mov_out[j] == m:
            return (mov_mask[j] | mov_turn_mask[j]) & bit != 0
    return True


@njit(cache=True, error_model="numpy")
def _pressure(s, p, t, app_start, app_links, mov_start, mov_out, mov_mask, mov_turn_mask,
              buf, buf_start, buf_cap, head, count, ready, nxt):  # fmt: skip
    """Max-pressure weight of phase ``p``.

    The queued vehicles it can discharge (up to the first whose movement is red) minus
    those on its movements' downstream links, averaged per approach.
    """
    w = 0.0
    bit = np.int64(1) << p
    for a in range(app_start[s], app_start[s + 1]):
        ln = app_links[a]
        n_green, down = 0, 0.0
        for j in range(mov_start[ln], mov_start[ln + 1]):
            if (mov_mask[j] | mov_turn_mask[j]) & bit:
                n_green += 1
                down += count[mov_out[j]]
        if n_green == 0:
            continue
        w -= down / n_green
        for k in range(count[ln]):
            v = buf[buf_start[ln] + (head[ln] + k) % buf_cap[ln]]
            if ready[v] > t:
                break
            if not _moves_in(v, ln, bit, mov_start, mov_out, mov_mask, mov_turn_mask, nxt):
                break  # FIFO: the vehicles behind a red movement cannot go either
            w += 1.0
    return w


@njit(cache=True, error_model="numpy")
def green_ends(s, el, t, cur, sig_nph, sig_mode, min_green, max_green,
                gap_s, app_start, app_links, mov_start, mov_out, mov_mask, mov_turn_mask,
                buf, buf_start, buf_cap, head, count, ready, nxt):  # fmt: skip
    """Adaptive control: the phase that follows the green of ``s`` if it ends now, else −1.

    Actuated: after the minimum green, when no front vehicle the phase serves is within
    the gap of its stop line, or at the maximum.
    Max-pressure: after the minimum green, when another phase has more pressure.
    """
    nph = sig_nph[s]
    following = (cur[s] + 1) % nph
    if el < min_green[s] - 1e-9:
        return -1
    bit = np.int64(1) << cur[s]
    if sig_mode[s] == ACTUATED:
        if el >= max_green[s] - 1e-9:
            return following
        for a in range(app_start[s], app_start[s + 1]):
            ln = app_links[a]
            if count[ln] > 0:  # detector: a front vehicle this phase serves
                v = buf[buf_start[ln] + head[ln]]
                if ready[v] <= t + gap_s[s] and _moves_in(
                    v, ln, bit, mov_start, mov_out, mov_mask, mov_turn_mask, nxt
                ):
                    return -1
        return following
    best, best_w = cur[s], -1e18
    for p in range(nph):
        w = _pressure(s, p, t, app_start, app_links, mov_start, mov_out, mov_mask,
                      mov_turn_mask, buf, buf_start, buf_cap, head, count, ready,
                      nxt)  # fmt: skip
        if w > best_w + 1e-9 or (p == cur[s] and w >= best_w - 1e-9):
            best, best_w = p, w
    return best if best != cur[s] else -1
