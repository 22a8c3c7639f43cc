"""The small random classifier the spiking, batching and distributed tests share."""

import numpy as np

from nengo_lmu.lmu import build_classifier

#: A feed-forward psMNIST-like classifier small enough for the emulator.
CONFIG = dict(n_classes=4, units=16, order=6, theta=30.0, input_d=1,
              hidden_neuron_type="RectifiedLinear")


def small_classifier(seed=0):
    """Random weights of a `CONFIG` classifier (its memory read with gain, the
    hidden layer active) and 40 random sequences of 30 steps for it."""
    rng = np.random.RandomState(seed)
    params = build_classifier(CONFIG, method="parallel").get_params()
    params["W_m"] = rng.normal(size=params["W_m"].shape) * 0.5
    params["bias"] = rng.uniform(-0.2, 0.5, size=CONFIG["units"])
    params["W_out"] = rng.normal(size=params["W_out"].shape)
    x = rng.uniform(0, 1, size=(40, 30, 1))
    return params, x
