"""numba kernels on plain numpy arrays (no pandas inside).

Each module is one family of kernels; the sim modules above them own the data
models and call in with arrays. Every kernel has a pure-Python/numpy twin in the
tests that checks it.
"""
