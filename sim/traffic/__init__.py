"""Traffic: road networks on CSR arrays, static equilibrium assignment, TNTP files.

The solvers run on :class:`~sim.traffic.network.Network` (plain arrays) built once
from a TNTP file (:func:`~sim.traffic.network.network_from_tntp`) or from the city's
link and node tables (:func:`~sim.traffic.network.network_from_links`), and
re-built after a policy edit. :func:`~sim.traffic.assignment.assign` finds the
user equilibrium.
"""
