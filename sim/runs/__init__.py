"""Runs: running a scenario, the run folder, its figures and outputs, the catalog, compare."""
