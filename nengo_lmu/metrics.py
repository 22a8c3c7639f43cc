"""Scores shared by the tasks (numpy only).

Two normalised errors are in use, and they differ: `nrmse_rms` divides by
the RMS of the target (the delay task: a zero-mean signal), `nrmse_std` by
its standard deviation (Mackey-Glass, whose series has a large mean).
"""

import numpy as np


def accuracy(logits, y):
    """Fraction of rows of ``logits`` whose argmax is the label ``y``."""
    return float(np.mean(np.argmax(logits, axis=-1) == np.asarray(y).ravel()))


def nrmse_rms(actual, target, axis=0):
    """RMSE of ``actual`` against ``target``, divided by the RMS of ``target``."""
    actual, target = np.asarray(actual), np.asarray(target)
    return np.sqrt(np.mean((actual - target) ** 2, axis=axis)) / np.sqrt(
        np.mean(target**2, axis=axis)
    )


def nrmse_std(y_true, y_pred):
    """RMSE of ``y_pred`` against ``y_true``, divided by the standard deviation
    of ``y_true`` (over all elements)."""
    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same shape, got {y_true.shape} "
                         f"and {y_pred.shape}")
    return float(np.sqrt(np.mean((y_pred - y_true) ** 2)) / np.std(y_true))
