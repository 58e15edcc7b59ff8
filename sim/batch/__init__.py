"""Batch: sweeps of scenario variants, their task store, local and Dask executors, reports."""
