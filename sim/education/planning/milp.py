"""Sparse constraint rows of the planning MILPs, added one at a time."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import LinearConstraint


class ConstraintRows:
    """Rows ``lo <= A @ x <= hi`` collected as coordinates, then one sparse matrix."""

    def __init__(self) -> None:
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._vals: list[np.ndarray] = []
        self._lo: list[float] = []
        self._hi: list[float] = []

    def add(self, cols: np.ndarray, vals: np.ndarray, low: float, high: float) -> None:
        """One row: ``low <= sum(vals * x[cols]) <= high``."""
        self._rows.append(np.full(len(cols), len(self._lo)))
        self._cols.append(cols)
        self._vals.append(vals)
        self._lo.append(low)
        self._hi.append(high)

    def constraint(self, n_var: int) -> LinearConstraint:
        """The rows so far as scipy's ``LinearConstraint`` over ``n_var`` variables."""
        a_mat = sparse.csr_array(
            (np.concatenate(self._vals), (np.concatenate(self._rows), np.concatenate(self._cols))),
            shape=(len(self._lo), n_var),
        )
        return LinearConstraint(a_mat, self._lo, self._hi)
