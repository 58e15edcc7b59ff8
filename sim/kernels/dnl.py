"""Dynamic network loading: a link transmission model of individual vehicles (numba).

Each link is a FIFO of vehicle ids (a ring buffer, ``buf_cap[ln]`` slots from
``buf_start[ln]``). A vehicle that enters link ``ln`` at time ``e`` reaches its end at
``e + fft[ln]`` (free flow; the triangular fundamental diagram's forward wave). It leaves
when (i) it is at the front, (ii) the link's discharge headway ``1 / cap[ln]`` has passed
since the last vehicle left, (iii) its movement has green (signals) and (iv) the next
link can receive: its inflow headway has passed and its storage is not used up, where
the storage that has come free is counted with the backward wave's delay:
``R = N_out[m](t − L/w) + storage[m] − N_in[m](t)`` (Yperman's link transmission
model). A vehicle's times are continuous: it leaves at the latest of the four
conditions' times, and moves in the step that time falls into. Vehicles wait at their
origin, in departure order, until their first link can take them. Incoming links of
a node are served one vehicle at a time in turn, starting from a link that rotates
every step, so a node splits its capacity fairly among competing approaches, except
that a front on a cycle of fronts waiting for full links (a locked loop,
:mod:`sim.kernels.dnl_cycles`) goes first into the room that comes free on the
cycle's next link: the loop unlocks after one teleport instead of refilling from
outside.
Work follows the vehicles: a node is visited only in the steps it is due (a timing
wheel of node sets: a front vehicle reaches a stop line, a front waits, or a green
starts), not every step. Options: a per-link capacity factor by time bin, a
time-to-teleport past full links (SUMO's rule, counted), acceleration lost when moving
off from rest, and informed vehicles that take the quickest path on from each link
(:mod:`sim.kernels.dnl_info`).

Signals: each signal cycles through its phases; phase ``p`` gives green to the
movements whose ``mov_mask`` has bit ``p`` (at the approach's full rate) or whose
``mov_turn_mask`` has it (one lane of ``lanes``: a protected turn). After every green
comes ``lost_s`` of intergreen without discharge. Control modes: 0 fixed time (greens
and offsets as given), 1 actuated (after ``min_green`` the phase ends when no vehicle
on its approaches is within ``gap_s`` of the stop line, or at ``max_green``), 2
max-pressure (after ``min_green`` the phase with the largest queue pressure is served;
the current phase goes on while it is the largest).
"""

from __future__ import annotations

import numpy as np
from numba import njit, objmode
from numba.cpython.unsafe.numbers import trailing_zeros

from sim.kernels.dnl_cycles import CYCLE_CHECK_S, find_cycles, yields_to_cycle
from sim.kernels.dnl_info import link_costs, live_destinations, next_link, refresh_quickest
from sim.kernels.dnl_signals import (
    ACTUATED,
    FIXED,
    MAX_PRESSURE,
    green_ends,
)
from sim.kernels.paths import street_chains

__all__ = ["ACTUATED", "FIXED", "GRIDLOCK", "MAX_PRESSURE", "OK", "simulate"]
OK, GRIDLOCK = 0, 1
#: A vehicle that waited this long (s) at a stop line starts the next link from rest.
STOPPED_S = 1.0
#: Rows (steps) of the wake-up wheel at most.
WHEEL_MAX = 1024


@njit(cache=True, error_model="numpy")
def _queue(ln, t, buf, buf_start, buf_cap, head, count, ready, at_line):
    """Vehicles at the stop line of link ``ln`` at time ``t`` (a prefix of the FIFO).

    ``at_line[ln]`` is the prefix found at an earlier ``t`` (less the fronts that left
    since): a vehicle once at the stop line stays there until it leaves, so the count
    only grows from it, and a queue's measure costs its growth, not its length.
    """
    q = at_line[ln]
    k = head[ln] + q  # the ring place of the q-th vehicle (< 2 buf_cap: one wrap at most)
    if k >= buf_cap[ln]:
        k -= buf_cap[ln]
    while q < count[ln]:
        if ready[buf[buf_start[ln] + k]] > t:
            break
        q += 1
        k += 1
        if k == buf_cap[ln]:
            k = 0
    at_line[ln] = q
    return q


@njit(cache=True, error_model="numpy")
def _push(m, v, buf, buf_start, buf_cap, head, count):
    """Vehicle ``v`` joins the back of link ``m``'s ring buffer."""
    k = head[m] + count[m]  # < 2 buf_cap: one wrap at most
    if k >= buf_cap[m]:
        k -= buf_cap[m]
    buf[buf_start[m] + k] = v
    count[m] += 1


@njit(cache=True, error_model="numpy")
def _signal_turn(m, after, link_signal, mov_start, mov_out):
    """Index of the movement from link ``m`` into ``after`` if ``m`` ends at a signal, else -1."""
    if link_signal[m] < 0 or after < 0:
        return -1
    for j in range(mov_start[m], mov_start[m + 1]):
        if mov_out[j] == after:
            return j
    return -1


@njit(cache=True, error_model="numpy")
def _occupy(ln, t_in, t_out, b_in, bin_s, bin_occ):
    """Add a stay on link ``ln`` from ``t_in`` (in bin ``b_in``) to ``t_out`` to ``bin_occ``.

    Bin by bin; the last bin takes what lies beyond it.
    """
    n_bins = bin_occ.shape[0]
    ta, b_a = t_in, b_in
    while ta < t_out:
        tb = min(t_out, (b_a + 1) * bin_s) if b_a < n_bins - 1 else t_out
        bin_occ[b_a, ln] += tb - ta
        ta = tb
        b_a = _bin(ta, bin_s, n_bins)


@njit(cache=True, error_model="numpy")
def _bin(x, bin_s, n_bins):
    """``min(x // bin_s, n_bins - 1)`` for ``x >= 0`` without the float modulo."""
    b = int(x / bin_s)
    if b > 0 and x < b * bin_s:
        b -= 1  # the quotient was rounded up to the next whole number
    return min(b, n_bins - 1)


@njit(cache=True, error_model="numpy")
def _step_of(ta, dt):
    """The first step whose end ``step * dt + dt`` is after time ``ta``."""
    s = max(int(ta / dt), 0)
    while s > 0 and ta < (s - 1) * dt + dt:
        s -= 1
    while not ta < s * dt + dt:
        s += 1
    return s


@njit(cache=True, error_model="numpy")
def _freed(m, t_free, ex_t, ex_start, ex_size, freed, n_out, ex_read):
    """Vehicles that left link ``m`` before ``t_free`` (now less the backward wave's delay).

    Exit times are kept in a ring per link; ``freed[m]`` only moves forward, as time does,
    and ``ex_read[m]`` is its place in the ring (``freed[m] % ex_size[m]``).
    """
    k, p = freed[m], ex_read[m]
    while k < n_out[m] and ex_t[ex_start[m] + p] < t_free:
        k += 1
        p += 1
        if p == ex_size[m]:
            p = 0
    freed[m], ex_read[m] = k, p
    return k


@njit(cache=True, error_model="numpy")
def _full(m, t_free, storage, n_in, ex_t, ex_start, ex_size, freed, n_out, ex_read):
    """Whether link ``m`` has no room at ``t_free`` (its vehicles fill its storage)."""
    return _freed(m, t_free, ex_t, ex_start, ex_size, freed, n_out, ex_read) + storage[m] <= n_in[m]


@njit(cache=True, error_model="numpy")
def _lowest_bit(w):
    """Index of the lowest set bit of ``w`` (> 0): one instruction (cttz), no division."""
    return trailing_zeros(w)


@njit(cache=True, error_model="numpy")
def _due(wheel, row, ahead, y):
    """Mark node ``y`` due ``ahead`` steps after the step of wheel row ``row``."""
    r = row + ahead  # ahead < the wheel's rows: one wrap at most
    if r >= wheel.shape[0]:
        r -= wheel.shape[0]
    wheel[r, y >> 5] |= 1 << (y & 31)


@njit(cache=True, error_model="numpy")
def _first_step(t0, span, dt, lo):
    """The first step ``k >= lo`` with ``k * dt - t0 >= span - 1e-9``.

    That is when a green (or an intergreen) of ``span`` s that began at ``t0`` is over, by
    the signal loop's own test.
    """
    k = max(int(np.ceil((t0 + span) / dt)), lo)
    while k > lo and (k - 1) * dt - t0 >= span - 1e-9:
        k -= 1
    while not (k * dt - t0 >= span - 1e-9):
        k += 1
    return k


@njit(cache=True, error_model="numpy")
def _close_greens(steps, dt, green_on, green_step, sig_ph0, cur, green_time):
    """Add the seconds of the greens still on after ``steps`` steps to ``green_time``."""
    for s in range(len(green_on)):
        if green_on[s]:
            green_time[sig_ph0[s] + cur[s]] += (steps - green_step[s]) * dt


@njit(cache=True, error_model="numpy")
def _held_queues(step, t_end, bin_s, app_links, q_step, bin_queue, buf, buf_start, buf_cap,
                 head, count, ready, at_line):  # fmt: skip
    """Measure the stop-line queues of signal approaches not visited in this step."""
    n_bins = bin_queue.shape[0]
    for a in range(len(app_links)):
        ln = app_links[a]
        if count[ln] == 0 or q_step[ln] == step:
            continue
        if ready[buf[buf_start[ln] + head[ln]]] >= t_end:
            continue
        qb = _bin(t_end, bin_s, n_bins)
        if count[ln] > bin_queue[qb, ln]:
            q_step[ln] = step
            q = _queue(ln, t_end, buf, buf_start, buf_cap, head, count, ready, at_line)
            bin_queue[qb, ln] = max(bin_queue[qb, ln], q)


@njit(cache=True, error_model="numpy")
def simulate(
    dt, n_steps, gridlock_steps,
    fft, cap, lanes, storage, lag, ex_start, ex_size,
    buf_start, buf_cap,
    mov_start, mov_out, mov_mask, mov_turn_mask,
    node_in_start, node_in_links, link_from, link_signal,
    sig_nph, sig_ph0, ph_green, sig_mode, min_green, max_green, gap_s, lost_s, sig_offset,
    app_start, app_links,
    depart, route_start, route_links, cap_factor, max_wait_s, dest_of, dest_nodes, info_s,
    startup_s,
    bin_s, arrive, bin_in, bin_out, bin_tt, bin_occ, bin_queue, bin_forced, green_time,
    entry_out, entry_tt,
):  # fmt: skip
    """Load the vehicles on the network; returns (status, steps, waits).

    ``waits[l]`` is, at gridlock, the link the front vehicle of link ``l`` waits to
    enter (−2: it waits to leave the network; −1: link ``l`` is empty or not stuck).

    Parameters
    ----------
    dt, n_steps, gridlock_steps
        Step (s), the most steps to run, and how many steps without any movement while
        vehicles are on the network count as gridlock.
    fft, cap, lanes, storage, lag, ex_start, ex_size
        Per link: free-flow time (s), capacity (veh/s), lanes, storage (vehicles),
        backward-wave delay in steps (>= 1), and offset and size of its ring of exit
        times (more than the vehicles that can leave within one wave delay).
    buf_start, buf_cap
        Per link: offset and size of its vehicle ring buffer (``buf_cap >= storage``).
    mov_start, mov_out, mov_mask, mov_turn_mask
        Movements of each link (CSR by incoming link): next link and phase bit masks
        (``-1``: always green, for links that do not end at a signal).
    node_in_start, node_in_links, link_from
        Incoming links of each node (CSR), and the node each link starts at.
    link_signal
        Signal index of the node a link ends at (−1: none).
    sig_nph, sig_ph0, ph_green, sig_mode, min_green, max_green, gap_s, lost_s, sig_offset
        Per signal: phases, offset of its phases in ``ph_green`` (effective green, s),
        control mode, minimum and maximum green, gap (s), intergreen lost time per
        phase (s) and offset (s).
    app_start, app_links
        Approach links of each signal (CSR).
    depart, route_start, route_links
        Vehicles sorted by departure time (s); route of vehicle ``v`` is
        ``route_links[route_start[v]:route_start[v + 1]]``.
    cap_factor
        ``(n_links, n_fb)`` factor on each link's discharge rate in bins of ``bin_s``
        from t = 0 (> 0; 1 beyond ``n_fb``), e.g. a lane blocked by parked cars.
    max_wait_s
        Time-to-teleport (SUMO's ``--time-to-teleport``): a front vehicle that has waited
        this long for a full next link is moved, as SUMO does, past the full links of its
        route to the first with room, at their free-flow time (or to its destination).
    dest_of, dest_nodes, info_s
        Traveller information: ``dest_of[v]`` indexes the destination node
        (``dest_nodes``) of an informed vehicle (−1: it keeps its route). Informed
        vehicles take, after each link, the next link of the currently quickest path
        to their destination, by tables recomputed every ``info_s`` seconds from the
        link times of the last bin and the vehicles now on the links (only for the
        destinations of informed vehicles on the network or leaving before the next).
    startup_s
        Per link: the extra time to reach its stop line of a vehicle that enters it from
        a standstill (it departs, or waited at least ``STOPPED_S`` at the stop line
        before): the time lost accelerating to the link's speed (0: none).
    bin_s
        Length of the time bins of the link outputs (s).
    arrive, bin_in, bin_out, bin_tt, bin_occ, bin_queue, green_time
        Outputs, filled in place: arrival time of each vehicle (NaN: not arrived); per
        time bin and link (``(n_bins, n_links)``, bin-major so that the links written
        in one bin share the cache; bins of ``bin_s`` covering ``n_steps * dt``):
        vehicles in, vehicles out, travel time of those out,
        vehicle-seconds spent on the link by vehicles that have left it, and the
        largest stop-line queue, vehicles let into a full next link after
        ``max_wait_s`` (counted on the link they waited at the end of); per phase
        seconds of green given; per bin of entry and link, the vehicles that entered
        then and have left (``entry_out``) and their time on the link (``entry_tt``).
    """
    n_links = len(fft)
    n_veh = len(depart)
    n_sig = len(sig_nph)
    n_bins = bin_in.shape[0]
    buf = np.empty(max(int(buf_start[-1] + buf_cap[-1]) if n_links else 0, 1), np.int64)
    head = np.zeros(n_links, np.int64)
    count = np.zeros(n_links, np.int64)
    n_in = np.zeros(n_links, np.int64)
    n_out = np.zeros(n_links, np.int64)
    ex_t = np.zeros(max(int(ex_start[-1] + ex_size[-1]) if n_links else 0, 1))
    freed = np.zeros(n_links, np.int64)
    ex_read = np.zeros(n_links, np.int64)  # the ring places of the next exit to free
    ex_write = np.zeros(n_links, np.int64)  # and of the next exit
    link_node = np.empty(n_links, np.int64)
    for node in range(len(node_in_start) - 1):
        for k in range(node_in_start[node], node_in_start[node + 1]):
            link_node[node_in_links[k]] = node
    n_nodes = len(node_in_start) - 1
    max_in = int(np.max(node_in_start[1:] - node_in_start[:-1])) if n_nodes else 0
    step_mod = np.zeros(max_in + 1, np.int64)  # step % n for n <= the most links into a node
    # wake-ups: a timing wheel of node bit sets, row ``step % n_wheel`` for the nodes due
    # in a step: a front vehicle of one of their incoming links reaches the stop line, a
    # front waits, or a green starts (a node processed early does nothing, so a wake-up
    # beyond the wheel is made early)
    n_wheel = min(int(fft.max() / dt) + 4 if n_links else 1, WHEEL_MAX)
    n_words = (n_nodes + 31) // 32
    wheel = np.zeros((n_wheel, max(n_words, 1)), np.int64)
    sig_node = np.full(n_sig, -1, np.int64)  # a signal's node, due when a green starts
    for s in range(n_sig):
        if app_start[s + 1] > app_start[s]:
            sig_node[s] = link_node[app_links[app_start[s]]]
    q_step = np.full(n_links, -1, np.int64)  # the step a link's queue was last measured
    at_line = np.zeros(n_links, np.int64)  # its vehicles at the stop line then
    o_list = np.empty(n_links, np.int64)  # links with vehicles waiting at their origin
    n_olist = 0
    next_out = np.zeros(n_links)
    inv_cap = 1.0 / cap  # the headway at capacity (s)
    next_in = np.zeros(n_links)
    wait_since = np.full(n_links, -1.0)  # since when a front has waited for a full link
    entry = np.zeros(n_veh)
    entry_bin = np.zeros(n_veh, np.int32)  # the output bin of ``entry``
    ready = np.zeros(n_veh)  # when a vehicle reaches the stop line of its link
    pos = np.zeros(n_veh, np.int64)  # index into the vehicle's route
    o_head = np.full(n_links, -1, np.int64)  # origin queues: linked lists per first link
    o_tail = np.full(n_links, -1, np.int64)
    o_next = np.full(n_veh, -1, np.int64)
    cur = np.zeros(n_sig, np.int64)
    green_on = np.zeros(n_sig, np.bool_)
    t_switch = np.zeros(n_sig)  # when the current green or intergreen began
    for s in range(n_sig):  # fixed-time start: where the cycle is at t = 0 given the offset
        c = 0.0
        for p in range(sig_nph[s]):
            c += ph_green[sig_ph0[s] + p] + lost_s[s]
        tc = (-sig_offset[s]) % c if c > 0 else 0.0
        acc = 0.0
        green_on[s] = True
        for p in range(sig_nph[s]):
            g = ph_green[sig_ph0[s] + p]
            if tc < acc + g:
                cur[s], t_switch[s], green_on[s] = p, -(tc - acc), True
                break
            if tc < acc + g + lost_s[s]:
                cur[s], t_switch[s] = (p + 1) % sig_nph[s], -(tc - acc - g)
                green_on[s] = False  # intergreen: ``cur`` is the phase to come
                break
            acc += g + lost_s[s]
    # green seconds are added when a green ends (and at the end): its steps times dt
    green_step = np.zeros(n_sig, np.int64)  # the step the current green began
    sig_next = np.zeros(n_sig, np.int64)  # the next step a fixed-time signal switches in
    next_dep = 0
    on_net = 0
    done = 0
    idle = 0
    waits = np.full(n_links, -1, np.int64)
    nxt = np.full(n_veh, -1, np.int64)  # the link a vehicle takes next (-1: it leaves)
    # the index of that turn in its link's movements, where the link ends at a signal
    # (-1: it leaves, no signal, or no such movement), found once per link, not per look
    turn_of = np.full(n_veh, -1, np.int64)
    dist_to = np.full((len(dest_nodes), n_nodes), np.inf)  # quickest times to destinations
    live = np.zeros(len(dest_nodes), np.bool_)  # destinations an informed vehicle heads for
    cost_now = np.empty(n_links)
    through = np.zeros(n_nodes, np.bool_)  # nodes some route passes
    for ln in range(n_links):
        if mov_start[ln + 1] > mov_start[ln]:
            through[link_node[ln]] = True
    # street chains the quickest-time searches walk (bends and way breaks: one way on);
    # without informed vehicles there is no search
    walkable = through.copy() if len(dest_nodes) else np.zeros(n_nodes, np.bool_)
    walkable[dest_nodes] = False  # a search starts there
    interior, chain_prev = street_chains(link_from, link_node, n_nodes, walkable)
    next_info = 0.0
    # locked loops: the wait graph's cycles, found every CYCLE_CHECK_S
    cyc_target = np.full(n_links, -1, np.int64)
    cyc_state = np.zeros(n_links, np.int8)
    cyc_walk = np.zeros(n_links, np.int64)
    cycle_pred = np.full(n_links, -1, np.int64)
    cycle_every = max(int(CYCLE_CHECK_S / dt), 1)

    def next_after(v, m):  # the link vehicle v takes after link m
        d = dest_of[v]
        if d >= 0:
            if link_node[m] == dest_nodes[d]:
                return -1
            return next_link(m, dist_to[d], cost_now, mov_start, mov_out, link_node)
        k = route_start[v] + pos[v] + 1
        return route_links[k] if k < route_start[v + 1] else -1

    step = 0
    for step in range(n_steps):
        t = step * dt
        t_end = t + dt
        row = step % n_wheel  # the wheel's row of this step
        for n in range(1, len(step_mod)):  # a node's round starts at link step % its links
            step_mod[n] = step % n
        fb = _bin(t, bin_s, n_bins + 1)  # the bin of the capacity factors
        qb = _bin(t_end, bin_s, n_bins)  # the bin of the queues measured at t_end
        if len(dest_nodes) and t >= next_info:
            next_info += info_s
            link_costs(cost_now, t, _bin(t, bin_s, n_bins) - 1, fft, cap, buf, buf_start,
                       buf_cap, head, count, ready, bin_out, bin_tt)  # fmt: skip
            live_destinations(live, dest_of, arrive, depart, next_dep, t + info_s)
            with objmode():  # the parallel kernel is called from Python (see its doc)
                refresh_quickest(dist_to, dest_nodes, live, cost_now, node_in_start,
                                 node_in_links, link_from, link_node, through, interior,
                                 chain_prev)  # fmt: skip
        # ---- signals: end greens that are over, then start greens whose intergreen is
        # over (a fixed-time signal only in the steps it switches: ``sig_next``)
        for s in range(n_sig):
            fixed = sig_mode[s] == FIXED
            if fixed and step < sig_next[s]:
                continue
            el = t - t_switch[s]
            if green_on[s]:
                if fixed:
                    g = ph_green[sig_ph0[s] + cur[s]]
                    following = (cur[s] + 1) % sig_nph[s] if el >= g - 1e-9 else -1
                else:
                    following = green_ends(s, el, t, cur, sig_nph, sig_mode, min_green,
                                           max_green, gap_s, app_start, app_links,
                                           mov_start, mov_out, mov_mask, mov_turn_mask,
                                           buf, buf_start, buf_cap, head, count, ready,
                                           nxt)  # fmt: skip
                if following >= 0:
                    green_on[s] = False
                    green_time[sig_ph0[s] + cur[s]] += (step - green_step[s]) * dt
                    t_switch[s] = t
                    el = 0.0
                    cur[s] = following
            if not green_on[s]:
                if el < lost_s[s] - 1e-9:
                    if fixed:
                        sig_next[s] = _first_step(t_switch[s], lost_s[s], dt, step + 1)
                    continue
                green_on[s] = True
                green_step[s] = step
                t_switch[s] = t
                if sig_node[s] >= 0:  # fronts held by the red may go now
                    y = sig_node[s]
                    _due(wheel, row, 0, y)
            if fixed:
                g = ph_green[sig_ph0[s] + cur[s]]
                sig_next[s] = _first_step(t_switch[s], g, dt, step + 1)
        if step % cycle_every == 0:
            find_cycles(wait_since, count, buf, buf_start, head, nxt, cyc_target, cyc_state,
                        cyc_walk, cycle_pred)  # fmt: skip
        moved = 0
        # ---- departures join their first link's origin queue
        while next_dep < n_veh and depart[next_dep] < t_end:
            v = next_dep
            first = route_links[route_start[v]]
            if o_tail[first] < 0:
                o_head[first] = v
                o_list[n_olist] = first
                n_olist += 1
            else:
                o_next[o_tail[first]] = v
            o_tail[first] = v
            next_dep += 1
        # ---- origins: enter the first link while it can receive
        kept = 0
        for i in range(n_olist):
            m = o_list[i]
            t_free = t_end - lag[m] * dt
            while o_head[m] >= 0:
                v = o_head[m]
                if _full(m, t_free, storage, n_in, ex_t, ex_start, ex_size, freed, n_out, ex_read):
                    break
                if yields_to_cycle(-1, m, t_end, cycle_pred, count, buf, buf_start, head, ready,
                                   nxt):  # fmt: skip
                    break  # the room goes to a locked loop's front
                te = max(depart[v], next_in[m], t)
                if te >= t_end:
                    break
                next_in[m] = te + inv_cap[m]
                _push(m, v, buf, buf_start, buf_cap, head, count)
                n_in[m] += 1
                entry_bin[v] = _bin(te, bin_s, n_bins)
                bin_in[entry_bin[v], m] += 1
                entry[v] = te
                ready[v] = te + fft[m] + startup_s[m]  # it departs from a standstill
                nxt[v] = next_after(v, m)
                turn_of[v] = _signal_turn(m, nxt[v], link_signal, mov_start, mov_out)
                if count[m] == 1:  # a new front vehicle: wake its node when it arrives
                    sw = max(_step_of(ready[v], dt), step)
                    _due(wheel, row, min(sw - step, n_wheel - 1), link_node[m])
                o_head[m] = o_next[v]
                if o_head[m] < 0:
                    o_tail[m] = -1
                on_net += 1
                moved += 1
            if o_head[m] >= 0:
                o_list[kept] = m
                kept += 1
        n_olist = kept
        # ---- nodes due this step, in node order: move front vehicles across, one per
        # incoming link in turn
        wi = 0
        while wi < n_words:
            w = wheel[row, wi]
            if w == 0:
                wi += 1
                continue
            wheel[row, wi] = w & (w - 1)  # the lowest node drops out
            node = wi * 32 + _lowest_bit(w)
            k0, k1 = node_in_start[node], node_in_start[node + 1]
            n_k = k1 - k0
            stuck = 0
            k = step_mod[n_k]
            # the node is due again at the first step one of its fronts could move, as
            # found in the last round of its links, in which none moves (-1: none can
            # until a front arrives or a green starts, which wakes it then)
            wake = -1
            t_front = np.inf  # when the first of its fronts still driving reaches its stop line
            while stuck < n_k:
                ln = node_in_links[k0 + k]
                k += 1
                if k == n_k:
                    k = 0
                stuck += 1
                if count[ln] == 0:
                    continue
                v = buf[buf_start[ln] + head[ln]]
                t_arr = ready[v]
                if t_arr >= t_end:  # still driving: due when it reaches the stop line
                    t_front = min(t_front, t_arr)
                    continue
                m = nxt[v]
                last = m < 0
                turn = False  # in a protected turn's phase: one lane discharges
                j = turn_of[v]
                if j >= 0:  # its turn at a signal: is it green?
                    s = link_signal[ln]
                    if not green_on[s]:
                        continue
                    bit = np.int64(1) << cur[s]
                    if not (mov_mask[j] & bit):
                        if not (mov_turn_mask[j] & bit):
                            continue
                        turn = True
                # a queue held by a red only grows: it is measured when its green starts
                # (the node is due then) or at the end of the bin (_held_queues)
                if count[ln] > bin_queue[qb, ln] and q_step[ln] != step:
                    q_step[ln] = step  # the largest stop-line queue, once a step
                    q = _queue(ln, t_end, buf, buf_start, buf_cap, head, count, ready, at_line)
                    bin_queue[qb, ln] = max(bin_queue[qb, ln], q)
                headway = inv_cap[ln]
                if fb < cap_factor.shape[1]:
                    headway /= cap_factor[ln, fb]
                if turn:
                    headway *= lanes[ln]
                forced = False
                te = max(t_arr, next_out[ln], t)
                if not last:
                    t_free = t_end - lag[m] * dt
                    if _full(m, t_free, storage, n_in, ex_t, ex_start, ex_size, freed, n_out,
                             ex_read):  # fmt: skip
                        if wait_since[ln] < 0:
                            wait_since[ln] = t  # the front starts waiting for room
                        if t - wait_since[ln] < max_wait_s:
                            wake = step + 1  # a front that waits is due next step
                            continue
                        forced = True
                    elif yields_to_cycle(ln, m, t_end, cycle_pred, count, buf, buf_start,
                                         head, ready, nxt):  # fmt: skip
                        wake = step + 1
                        continue
                    te = max(te, next_in[m])
                if te >= t_end:
                    wake = step + 1
                    continue
                next_out[ln] = te + headway
                wait_since[ln] = -1.0
                t_out = te  # when it leaves link ln
                if forced:  # teleported past the full links ahead, at their free-flow time
                    bin_forced[_bin(te, bin_s, n_bins), ln] += 1
                    while True:
                        te += fft[m]
                        pos[v] += 1
                        nxt[v] = next_after(v, m)
                        if nxt[v] < 0:
                            last = True  # no room up to its destination: it arrives
                            break
                        m = nxt[v]
                        t_free = t_end - lag[m] * dt
                        if not _full(m, t_free, storage, n_in, ex_t, ex_start, ex_size, freed,
                                     n_out, ex_read):  # fmt: skip
                            break
                head[ln] += 1
                if head[ln] == buf_cap[ln]:
                    head[ln] = 0
                count[ln] -= 1
                at_line[ln] = max(at_line[ln] - 1, 0)
                if n_out[ln] - freed[ln] >= ex_size[ln]:
                    freed[ln] += 1  # the ring is full: its oldest exit counts as freed
                    ex_read[ln] = ex_read[ln] + 1 if ex_read[ln] + 1 < ex_size[ln] else 0
                ex_t[ex_start[ln] + ex_write[ln]] = t_out
                ex_write[ln] = ex_write[ln] + 1 if ex_write[ln] + 1 < ex_size[ln] else 0
                n_out[ln] += 1
                b_o = _bin(t_out, bin_s, n_bins)
                b_e = entry_bin[v]
                on_link = t_out - entry[v]
                bin_out[b_o, ln] += 1
                bin_tt[b_o, ln] += on_link
                entry_out[b_e, ln] += 1
                entry_tt[b_e, ln] += on_link
                if b_e == b_o:
                    bin_occ[b_e, ln] += on_link
                else:
                    _occupy(ln, entry[v], t_out, b_e, bin_s, bin_occ)
                if last:
                    arrive[v] = te
                    on_net -= 1
                    done += 1
                else:
                    next_in[m] = te + inv_cap[m]
                    _push(m, v, buf, buf_start, buf_cap, head, count)
                    n_in[m] += 1
                    entry_bin[v] = b_o if te == t_out else _bin(te, bin_s, n_bins)
                    bin_in[entry_bin[v], m] += 1
                    entry[v] = te
                    # from a standstill (it waited at the stop line) it accelerates
                    ready[v] = te + fft[m] + (startup_s[m] if te - t_arr >= STOPPED_S else 0.0)
                    if count[m] == 1:  # a new front: its node is due when it arrives,
                        y = link_node[m]  # this step only if still to come in node order
                        sw = max(_step_of(ready[v], dt), step)
                        if sw == step and y <= node:
                            sw = step + 1
                        _due(wheel, row, min(sw - step, n_wheel - 1), y)
                    pos[v] += 1
                    nxt[v] = next_after(v, m)
                    turn_of[v] = _signal_turn(m, nxt[v], link_signal, mov_start, mov_out)
                moved += 1
                stuck = 0
                wake, t_front = -1, np.inf  # the round starts again
            if t_front < np.inf:
                sw = max(_step_of(t_front, dt), step + 1)
                wake = sw if wake < 0 else min(wake, sw)
            if wake >= 0:
                _due(wheel, row, min(wake - step, n_wheel - 1), node)
        # ---- fronts held by a red are not visited: measure their queues at the end of
        # each bin (while no one leaves, a queue only grows)
        t_next = (step + 1) * dt + dt
        if step == n_steps - 1 or _bin(t_next, bin_s, n_bins) != qb:
            _held_queues(step, t_end, bin_s, app_links, q_step, bin_queue, buf, buf_start,
                         buf_cap, head, count, ready, at_line)  # fmt: skip
        # ---- done, or gridlock
        if done == n_veh:
            _close_greens(step + 1, dt, green_on, green_step, sig_ph0, cur, green_time)
            return OK, step + 1, waits
        idle = idle + 1 if moved == 0 and on_net > 0 else 0
        if idle >= gridlock_steps:
            # gridlock only if nobody is still driving: every front vehicle is at its stop line
            driving = False
            for m in range(n_links):
                if count[m] > 0 and ready[buf[buf_start[m] + head[m]]] >= t_end:
                    driving = True
            if not driving:  # report the links whose front vehicles wait
                for m in range(n_links):
                    if count[m] > 0:
                        v = buf[buf_start[m] + head[m]]
                        waits[m] = -2 if nxt[v] < 0 else nxt[v]
                _held_queues(step, t_end, bin_s, app_links, q_step, bin_queue, buf,
                             buf_start, buf_cap, head, count, ready, at_line)  # fmt: skip
                _close_greens(step + 1, dt, green_on, green_step, sig_ph0, cur, green_time)
                return GRIDLOCK, step + 1, waits
            idle = 0
    _close_greens(step + 1, dt, green_on, green_step, sig_ph0, cur, green_time)
    return OK, step + 1, waits
