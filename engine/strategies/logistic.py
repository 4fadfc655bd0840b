"""L2-regularised logistic regression in plain numpy (Newton/IRLS): ml_basic's model.

Deterministic and dependency-free. Predictions are bit-identical per row however
many rows are predicted together, which the no-look-ahead tests and the bar-by-bar
form of ml_basic (predicting one new bar at a time) rely on.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

L2 = 0.01  # ridge strength on the mean log-loss; keeps noisy windows from overfitting
NEWTON_STEPS = 25
NEWTON_TOL = 1e-8


class Model(NamedTuple):
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # intercept first


def fit_logistic(x: np.ndarray, y: np.ndarray) -> Model:
    """L2-regularised logistic regression by Newton's method on standardised features.

    The standardisation statistics come from ``x`` (the training window) only.
    """
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0.0] = 1.0
    design = np.column_stack([np.ones(len(x)), (x - mean) / scale])
    m, k = design.shape
    # The intercept is barely penalised: only enough to stay finite when a window
    # holds a single class (a dead-flat market).
    penalty = np.full(k, L2)
    penalty[0] = 1e-6
    weights = np.zeros(k)
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-(design @ weights)))
        gradient = design.T @ (p - y) / m + penalty * weights
        hessian = (design.T * (p * (1.0 - p))) @ design / m + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        weights = weights - step
        if np.abs(step).max() < NEWTON_TOL:
            break
    return Model(mean, scale, weights)


def predict_up(model: Model, x: np.ndarray) -> np.ndarray:
    """P(next close > close) for each row of ``x``.

    Accumulated feature by feature (element-wise) instead of a matrix product, so a
    row's probability is bit-identical however many rows are predicted together: the
    no-look-ahead tests compare a truncated last block with the full one.
    """
    terms = np.empty((len(x), x.shape[1] + 1))
    terms[:, 0] = model.weights[0]
    terms[:, 1:] = (x - model.mean) / model.scale * model.weights[1:]
    # A cumulative sum adds strictly left to right within each row: the same sum, in the
    # same order, as a loop over the features, in a handful of numpy calls.
    z = np.cumsum(terms, axis=1)[:, -1]
    return 1.0 / (1.0 + np.exp(-z))
