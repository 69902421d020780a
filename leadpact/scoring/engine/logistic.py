"""Logistic regression whose weights may not go negative.

On weight-of-evidence inputs a negative weight flips an attribute: its best-converting bin
would earn the fewest points. That happens when two attributes overlap (on X Education "What
matters most" and "current occupation" are missing on the same leads). Bounding the weights at
zero lets the redundant attribute drop out instead of pointing the wrong way.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit


class NonNegativeLogisticRegression:
    """L2-penalised logistic regression with ``coef_ >= 0`` and a free intercept.

    ``C`` is the inverse penalty strength as in scikit-learn (penalty ``||w||² / (2C)`` on the
    mean log loss times ``n``).
    """

    def __init__(self, C: float = 1.0, max_iter: int = 500, tol: float = 1e-8) -> None:
        self.C = C
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X: np.ndarray, y: np.ndarray) -> NonNegativeLogisticRegression:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        _n, k = X.shape
        sign = 2 * y - 1

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[:k], theta[k]
            margin = sign * (X @ w + b)
            value = -log_expit(margin).sum() + 0.5 * (w @ w) / self.C
            g = -sign * expit(-margin)
            grad = np.empty(k + 1)
            grad[:k] = X.T @ g + w / self.C
            grad[k] = g.sum()
            return float(value), grad

        p = np.clip(y.mean(), 1e-6, 1 - 1e-6)
        start = np.zeros(k + 1)
        start[k] = np.log(p / (1 - p))
        result = minimize(
            loss,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, None)] * k + [(None, None)],
            options={"maxiter": self.max_iter, "ftol": self.tol},
        )
        self.coef_ = result.x[:k]
        self.intercept_ = float(result.x[k])
        self.n_iter_ = int(result.nit)
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) @ self.coef_ + self.intercept_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])
