"""`nengo_lmu.keras.from_keras` reproduces keras-lmu layers exactly."""

import keras_lmu
import nengo
import numpy as np
import pytest
import tensorflow as tf

from nengo_lmu.keras import from_keras, keras_params
from nengo_lmu.lmu import LMU, PARAM_SHAPES

BATCH, STEPS, INPUT_D = 3, 20, 2
ATOL = 1e-5
Dense, SimpleRNNCell = tf.keras.layers.Dense, tf.keras.layers.SimpleRNNCell


def randomize(layer, rng, theta_scale=0.7):
    """Random normal weights (scale 0.3) everywhere; a trainable theta is
    moved to ``theta / theta_scale`` so that the trained value is the one used."""
    values = []
    for w in layer.weights:
        if "theta_inv" in w.name:
            values.append(np.array(w.numpy() * theta_scale))
        else:
            values.append(rng.normal(scale=0.3, size=w.shape))
    layer.set_weights(values)


def nengo_output(lmu_layer, x, **kwargs):
    """Outputs of ``from_keras(lmu_layer)``, one sequence of ``x`` after another."""
    with nengo.Network() as net:
        lmu = from_keras(lmu_layer, **kwargs)
        which = {"seq": 0}
        stim = nengo.Node(lambda t: x[which["seq"], int(round(t / 0.001)) - 1])
        nengo.Connection(stim, lmu.input, synapse=None)
        p = nengo.Probe(lmu.output, synapse=None)
    out = []
    with nengo.Simulator(net, progress_bar=False) as sim:
        for seq in range(len(x)):
            which["seq"] = seq
            sim.reset()
            sim.run_steps(x.shape[1])
            out.append(sim.data[p].copy())
    return lmu, np.array(out)


def lmu(memory_d=2, order=4, theta=8.0, hidden="relu", **kwargs):
    hidden = Dense(5, activation="relu") if hidden == "relu" else hidden
    return keras_lmu.LMU(memory_d, order, theta, hidden, return_sequences=True, **kwargs)


def rnn_cell(**kwargs):
    cell = keras_lmu.LMUCell(2, 4, 8.0, Dense(5, activation="sigmoid"), **kwargs)
    return cell, tf.keras.layers.RNN(cell, return_sequences=True)


def model(**kwargs):
    inp = tf.keras.Input(shape=(STEPS, INPUT_D))
    out = lmu(**kwargs)(inp)
    return tf.keras.Model(inp, out)


# name: () -> (the object given to from_keras, the Keras layer/model to run)
CONFIGS = {
    "memory_d2-dense_relu": lambda: 2 * (lmu(memory_d=2),),
    "input_to_hidden-dense_tanh": lambda: 2
    * (lmu(memory_d=1, hidden=Dense(5, activation="tanh"), input_to_hidden=True),),
    "hidden_to_memory-dense_relu": lambda: 2 * (lmu(hidden_to_memory=True),),
    "memory_to_memory-simplernn_tanh": lambda: 2
    * (lmu(hidden=SimpleRNNCell(5), memory_to_memory=True),),
    "all_three-simplernn_tanh-dropout": lambda: 2
    * (
        lmu(
            hidden=SimpleRNNCell(5, dropout=0.3, recurrent_dropout=0.3),
            hidden_to_memory=True,
            memory_to_memory=True,
            input_to_hidden=True,
            dropout=0.3,
            recurrent_dropout=0.3,
        ),
    ),
    "all_three-dense_tanh-euler": lambda: 2
    * (
        lmu(
            theta=20.0,
            hidden=Dense(5, activation="tanh"),
            hidden_to_memory=True,
            memory_to_memory=True,
            input_to_hidden=True,
            discretizer="euler",
        ),
    ),
    "feedforward_path-euler": lambda: 2
    * (lmu(theta=20.0, input_to_hidden=True, discretizer="euler"),),
    "trainable_theta-euler-simplernn": lambda: 2
    * (
        lmu(
            theta=20.0,
            hidden=SimpleRNNCell(5),
            trainable_theta=True,
            discretizer="euler",
        ),
    ),
    "lmucell_in_rnn-trainable_theta-zoh-sigmoid": lambda: rnn_cell(
        trainable_theta=True, input_to_hidden=True
    ),
    "rnn_of_lmucell": lambda: 2 * (rnn_cell(memory_to_memory=True)[1],),
    "lmufeedforward-simplernn": lambda: 2
    * (
        keras_lmu.LMUFeedforward(
            2, 4, 8.0, SimpleRNNCell(5), input_to_hidden=True, return_sequences=True
        ),
    ),
    "lmufeedforward-dense-euler-dropout": lambda: 2
    * (
        keras_lmu.LMUFeedforward(
            2,
            4,
            20.0,
            Dense(5, activation="relu"),
            discretizer="euler",
            dropout=0.3,
            return_sequences=True,
        ),
    ),
    "no_memory_kernel": lambda: 2 * (lmu(memory_d=INPUT_D, kernel_initializer=None),),
    "model": lambda: 2 * (model(memory_to_memory=True, input_to_hidden=True),),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_from_keras_matches_keras(name, rng):
    target, keras_obj = CONFIGS[name]()
    x = rng.uniform(-1, 1, size=(BATCH, STEPS, INPUT_D)).astype(np.float32)
    keras_obj(x)  # build
    randomize(keras_obj, rng)
    expected = keras_obj(x).numpy()
    assert expected.shape == (BATCH, STEPS, 5)
    assert np.abs(expected).max() > 0.1  # not a trivially small output

    net, actual = nengo_output(target, x)
    error = np.abs(actual - expected).max()
    print(f"{name}: max abs error {error:.2e}")
    assert error < ATOL

    cell = target.layer if isinstance(target, keras_lmu.LMU) else target
    cell = getattr(cell, "cell", cell)
    if getattr(cell, "trainable_theta", False):
        # the trained theta, not the initial one
        assert net.theta == pytest.approx(1 / cell.theta_inv.numpy(), rel=1e-12)
        assert net.theta != pytest.approx(cell._init_theta)


def test_keras_params_layout(rng):
    layer = lmu(hidden=SimpleRNNCell(5), hidden_to_memory=True, memory_to_memory=True,
                input_to_hidden=True)
    layer(np.zeros((1, STEPS, INPUT_D), dtype=np.float32))
    randomize(layer, rng)
    params, kwargs = keras_params(layer)
    assert kwargs.pop("use_memory_bias", False) is False  # with a memory-bias LMU
    assert kwargs == dict(
        units=5, order=4, theta=8.0, input_d=INPUT_D, memory_d=2,
        hidden_neuron_type=nengo.Tanh(tau_ref=1.0), hidden_to_memory=True,
        memory_to_memory=True, input_to_hidden=True, hidden_recurrent=True,
        discretizer="zoh",
    )
    net = LMU(params=params, **kwargs)
    assert set(params) >= set(PARAM_SHAPES)
    for k, shape in net.param_shapes.items():
        assert params[k].shape == shape and params[k].dtype == np.float64
    cell = layer.layer.cell
    kernel, hidden = cell.kernel.numpy(), cell.hidden_cell
    assert np.array_equal(params["e_x"], kernel[:INPUT_D].T)
    assert np.array_equal(params["e_h"], kernel[INPUT_D:].T)
    assert np.array_equal(params["e_m"], cell.recurrent_kernel.numpy().T)
    assert np.array_equal(params["W_m"], hidden.kernel.numpy()[:8].T)
    assert np.array_equal(params["W_x"], hidden.kernel.numpy()[8:].T)
    assert np.array_equal(params["W_h"], hidden.recurrent_kernel.numpy().T)
    assert np.array_equal(params["bias"], hidden.bias.numpy())


def test_lmu_kwargs(rng):
    layer = lmu(input_to_hidden=True)
    x = rng.uniform(-1, 1, size=(BATCH, STEPS, INPUT_D)).astype(np.float32)
    layer(x)
    randomize(layer, rng)
    spiking = from_keras(layer, hidden_neuron_type=nengo.SpikingRectifiedLinear(),
                         label="converted")
    assert isinstance(spiking.hidden.neuron_type, nengo.SpikingRectifiedLinear)
    assert spiking.label == "converted"

    # the closed form (parallel) network gives the last Keras output
    par = from_keras(layer, closed_form=True)
    with nengo.Network() as pnet:
        pnet.add(par)
        par.memory_input.output = nengo.processes.PresentInput(
            par.closed_form_memory(x), 0.001
        )
        px = nengo.Node(nengo.processes.PresentInput(x[:, -1], 0.001))
        nengo.Connection(px, par.input, synapse=None)
        p = nengo.Probe(par.output, synapse=None)
    with nengo.Simulator(pnet, progress_bar=False) as sim:
        sim.run_steps(BATCH)
    assert np.abs(sim.data[p] - layer(x).numpy()[:, -1]).max() < ATOL

    with pytest.raises(ValueError, match=r"\['theta', 'units'\].*from the Keras layer"):
        from_keras(layer, units=3, theta=2.0)


def test_memory_bias(rng):
    """keras-lmu's use_bias: a zero memory bias converts; a nonzero one needs an
    LMU with a memory bias parameter."""
    layer = lmu(use_bias=True, hidden_to_memory=True)
    x = rng.uniform(-1, 1, size=(BATCH, STEPS, INPUT_D)).astype(np.float32)
    layer(x)
    randomize(layer, rng)
    bias = layer.layer.cell.bias
    nonzero = bias.numpy()
    bias.assign(np.zeros(bias.shape))
    assert np.abs(nengo_output(layer, x)[1] - layer(x).numpy()).max() < ATOL

    bias.assign(nonzero)
    if "memory_bias" not in PARAM_SHAPES:
        with pytest.raises(ValueError, match="nonzero memory bias"):
            from_keras(layer)
    else:
        assert np.abs(nengo_output(layer, x)[1] - layer(x).numpy()).max() < ATOL


def _built(layer):
    layer(np.zeros((1, STEPS, INPUT_D), dtype=np.float32))
    return layer


def test_unsupported():
    with pytest.raises(ValueError, match="hidden_cell=None"):
        from_keras(_built(lmu(hidden=None)))
    with pytest.raises(ValueError, match="hidden_cell=None"):
        from_keras(_built(lmu(hidden=None)).layer)  # LMUFeedforward
    with pytest.raises(ValueError, match="unsupported hidden_cell LSTMCell"):
        from_keras(_built(lmu(hidden=tf.keras.layers.LSTMCell(3), memory_to_memory=True)))
    with pytest.raises(ValueError, match="activation 'linear'.*no nengo neuron type"):
        from_keras(_built(lmu(hidden=Dense(3))))
    with pytest.raises(ValueError, match="activation 'elu'"):
        from_keras(_built(lmu(hidden=SimpleRNNCell(3, activation="elu"))))
    with pytest.raises(ValueError, match="not built"):
        from_keras(lmu())
    with pytest.raises(ValueError, match="go_backwards"):
        cell = keras_lmu.LMUCell(1, 3, 5.0, Dense(3, activation="relu"))
        from_keras(_built(tf.keras.layers.RNN(cell, go_backwards=True)))
    with pytest.raises(ValueError, match="expected a keras_lmu.LMU"):
        from_keras(Dense(3))

    inp = tf.keras.Input(shape=(STEPS, INPUT_D))
    two = tf.keras.Model(inp, lmu()(lmu()(inp)))
    with pytest.raises(ValueError, match="exactly one keras-lmu layer.*found 2"):
        from_keras(two)
    none = tf.keras.Sequential([tf.keras.Input(shape=(STEPS, INPUT_D)), Dense(3)])
    with pytest.raises(ValueError, match="found 0"):
        keras_params(none)
