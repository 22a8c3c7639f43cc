"""Convert a trained `keras-lmu <https://www.nengo.ai/keras-lmu/>`_ layer to an `LMU`.

`from_keras` takes a ``keras_lmu.LMU``, ``keras_lmu.LMUCell`` (alone or inside
a ``tf.keras.layers.RNN``) or ``keras_lmu.LMUFeedforward`` layer, or a Keras
model holding exactly one of them, and returns a `nengo_lmu.lmu.LMU` network
that computes the same ``return_sequences=True`` output, one simulator step
per sequence element. `keras_params` returns the weights and constructor
arguments without building the network.

The correspondence (keras-lmu 0.7; ``M = memory_d * order``; a Keras
``kernel`` is applied as ``inputs @ kernel``, ours as ``W @ inputs``, hence
the transposes):

==================================  ==========================================
keras-lmu                           `LMU`
==================================  ==========================================
``kernel[:input_d]`` (memory)       ``e_x = kernel[:input_d].T``
``kernel[input_d:]`` (memory)       ``e_h = kernel[input_d:].T``
                                    (``hidden_to_memory``: Keras encodes
                                    ``concat(x_t, h_{t-1})``)
no memory kernel                    ``e_x``, ``e_h``: the identity, split
(``kernel_initializer=None``)       the same way
``recurrent_kernel`` (memory)       ``e_m = recurrent_kernel.T``
memory ``A``, ``B`` (fixed)         our ``LegendreDelay(theta, order)``
                                    discretized with ``dt = 1`` (Keras keeps
                                    ``Ad.T`` and ``Bd.T``, or, for
                                    ``trainable_theta`` with ``"euler"``,
                                    ``A`` and ``B`` and adds ``theta_inv (m A +
                                    u B)`` to ``m``: the same update)
memory state ``(memory_d, order)``  the same flattening, index
                                    ``d * order + i``
``theta`` / ``theta_inv``           ``theta`` (the trained ``1 / theta_inv``
                                    when ``trainable_theta``)
hidden ``kernel[:M]``               ``W_m = kernel[:M].T``
hidden ``kernel[M:]``               ``W_x = kernel[M:].T`` (``input_to_hidden``:
                                    Keras feeds ``concat(m_t, x_t)``, memory
                                    first)
``SimpleRNNCell.recurrent_kernel``  ``W_h = recurrent_kernel.T``,
                                    ``hidden_recurrent=True``
hidden ``bias``                     ``bias`` (zeros if ``use_bias=False``)
activation ``relu``                 `nengo.RectifiedLinear` ``()``
activation ``tanh``                 `nengo.Tanh` ``(tau_ref=1.0)``
activation ``sigmoid``              `nengo.Sigmoid` ``(tau_ref=1.0)``
==================================  ==========================================

TensorFlow and keras-lmu are imported only when these functions are called.
"""

import numpy as np

# constructor arguments of LMU that the Keras layer determines
_STRUCTURAL = (
    "units",
    "order",
    "theta",
    "input_d",
    "memory_d",
    "hidden_to_memory",
    "memory_to_memory",
    "input_to_hidden",
    "hidden_recurrent",
    "discretizer",
    "params",
)


def _imports():
    try:
        import keras_lmu  # pylint: disable=import-outside-toplevel
        import tensorflow as tf  # pylint: disable=import-outside-toplevel
    except ImportError as e:  # pragma: no cover
        raise ImportError(
            "nengo_lmu.keras needs tensorflow and keras-lmu "
            "(pip install nengo-lmu[dl,peers])"
        ) from e
    return tf, keras_lmu


def _is_lmu_layer(layer, tf, keras_lmu):
    if isinstance(layer, (keras_lmu.LMU, keras_lmu.LMUCell, keras_lmu.LMUFeedforward)):
        return True
    return isinstance(layer, tf.keras.layers.RNN) and isinstance(
        getattr(layer, "cell", None), keras_lmu.LMUCell
    )


def _find_lmu_layers(model, tf, keras_lmu):
    found = []
    for layer in model.layers:
        if _is_lmu_layer(layer, tf, keras_lmu):
            found.append(layer)
        elif isinstance(layer, tf.keras.Model):
            found.extend(_find_lmu_layers(layer, tf, keras_lmu))
    return found


def _resolve(model_or_layer, tf, keras_lmu):
    """The built LMUCell or LMUFeedforward that holds the weights."""
    obj = model_or_layer
    if not _is_lmu_layer(obj, tf, keras_lmu):
        if not isinstance(obj, tf.keras.Model):
            raise ValueError(
                "expected a keras_lmu.LMU, LMUCell or LMUFeedforward layer, a "
                "tf.keras.layers.RNN of an LMUCell, or a Keras model containing "
                f"exactly one of them; got {type(obj).__name__}"
            )
        found = _find_lmu_layers(obj, tf, keras_lmu)
        if len(found) != 1:
            names = [f"{layer.name} ({type(layer).__name__})" for layer in found]
            raise ValueError(
                f"the Keras model {obj.name!r} must contain exactly one keras-lmu "
                f"layer (LMU, LMUCell in an RNN, or LMUFeedforward); found "
                f"{len(found)}" + (f": {', '.join(names)}" if names else "")
            )
        obj = found[0]

    if not obj.built:
        raise ValueError(
            f"the Keras layer {obj.name!r} is not built, so it has no weights yet: "
            "call it on an input (or build the model) first"
        )
    if isinstance(obj, keras_lmu.LMU):
        obj = obj.layer
    if isinstance(obj, tf.keras.layers.RNN):
        if obj.go_backwards:
            raise ValueError(
                f"the RNN layer {obj.name!r} has go_backwards=True; the Nengo LMU "
                "runs forward in time only"
            )
        obj = obj.cell
    if not obj.built:  # pragma: no cover (a built wrapper builds its cell)
        raise ValueError(f"the Keras layer {obj.name!r} is not built")
    return obj


def _neuron_type(activation, cell, tf):
    import nengo  # pylint: disable=import-outside-toplevel

    acts = tf.keras.activations
    table = [
        ((acts.relu, tf.nn.relu), "relu", nengo.RectifiedLinear()),
        ((acts.tanh, tf.nn.tanh, tf.math.tanh), "tanh", nengo.Tanh(tau_ref=1.0)),
        (
            (acts.sigmoid, tf.nn.sigmoid, tf.math.sigmoid),
            "sigmoid",
            nengo.Sigmoid(tau_ref=1.0),
        ),
    ]
    for functions, _, neuron_type in table:
        if any(activation is f for f in functions):
            return neuron_type
    try:
        name = acts.serialize(activation)
    except Exception:  # pylint: disable=broad-except
        name = getattr(activation, "__name__", repr(activation))
    if activation is None or activation is acts.linear:
        reason = (
            "a linear hidden layer has no nengo neuron type (nengo.Direct is not "
            "allowed in the hidden layer)"
        )
    else:
        reason = "it has no exactly equivalent nengo neuron type"
    raise ValueError(
        f"the hidden cell {cell.name!r} has activation {name!r}, which the Nengo "
        f"LMU cannot represent: {reason}. Supported activations: "
        + ", ".join(f"{n!r} -> {nt!r}" for _, n, nt in table)
    )


def _value(weight):
    return np.array(weight.numpy() if hasattr(weight, "numpy") else weight, dtype=np.float64)


def _theta(layer, feedforward, tf):
    """theta in steps: the trained value when it is trainable."""
    if not feedforward and layer.trainable_theta:
        theta_inv = float(tf.keras.backend.get_value(layer.theta_inv))
        if not np.isfinite(theta_inv) or theta_inv <= 0:
            raise ValueError(
                f"the trained theta_inv of {layer.name!r} is {theta_inv}: theta "
                "would not be a positive finite number of steps"
            )
        return 1.0 / theta_inv
    return float(layer.theta if feedforward else layer._init_theta)


def _hidden_cell(layer, tf):
    """The layer's hidden cell, if the Nengo LMU can express it."""
    cell = layer.hidden_cell
    Dense, SimpleRNNCell = tf.keras.layers.Dense, tf.keras.layers.SimpleRNNCell
    if cell is None:
        raise ValueError(
            f"{layer.name!r} has hidden_cell=None (its output is the memory "
            "itself), which the Nengo LMU cannot express: its output is always a "
            "hidden ensemble of neurons, and no nengo neuron type is linear. Use a "
            "Dense or SimpleRNNCell hidden cell"
        )
    if type(cell) not in (Dense, SimpleRNNCell):
        raise ValueError(
            f"unsupported hidden_cell {type(cell).__name__} ({cell.name!r}): only "
            "tf.keras.layers.Dense and tf.keras.layers.SimpleRNNCell (exactly those "
            "classes, not subclasses) have an equivalent Nengo LMU hidden layer"
        )
    if not cell.built:  # pragma: no cover (keras-lmu builds it with the layer)
        raise ValueError(f"the hidden cell {cell.name!r} is not built")
    return cell


def keras_params(model_or_layer):
    """The `LMU` weights and constructor arguments of a keras-lmu layer.

    Parameters
    ----------
    model_or_layer : keras layer or `tf.keras.Model`
        A built ``keras_lmu.LMU``, ``keras_lmu.LMUCell`` (alone or in a
        ``tf.keras.layers.RNN``) or ``keras_lmu.LMUFeedforward``, or a Keras
        model containing exactly one such layer (searched recursively through
        nested models). See `from_keras` for what is supported.

    Returns
    -------
    params : dict
        Keyed as `nengo_lmu.lmu.PARAM_SHAPES`, float64 arrays; the weights a
        configuration does not use are zeros.
    kwargs : dict
        The `LMU` constructor arguments ``units``, ``order``, ``theta``,
        ``input_d``, ``memory_d``, ``hidden_neuron_type``,
        ``hidden_to_memory``, ``memory_to_memory``, ``input_to_hidden``,
        ``hidden_recurrent`` and ``discretizer``.

    Raises
    ------
    ValueError
        If the layer is not built or uses something the Nengo `LMU` cannot
        represent exactly (see `from_keras`).
    """
    tf, keras_lmu = _imports()
    layer = _resolve(model_or_layer, tf, keras_lmu)
    feedforward = isinstance(layer, keras_lmu.LMUFeedforward)

    memory_d, order = int(layer.memory_d), int(layer.order)
    M = memory_d * order
    hidden_to_memory = False if feedforward else bool(layer.hidden_to_memory)
    memory_to_memory = False if feedforward else bool(layer.memory_to_memory)
    input_to_hidden = bool(layer.input_to_hidden)
    discretizer = layer.discretizer
    if discretizer not in ("zoh", "euler"):  # pragma: no cover (keras-lmu checks)
        raise ValueError(f"unknown discretizer {discretizer!r}")

    theta = _theta(layer, feedforward, tf)
    cell = _hidden_cell(layer, tf)
    SimpleRNNCell = tf.keras.layers.SimpleRNNCell
    hidden_recurrent = type(cell) is SimpleRNNCell
    units = int(cell.units)
    hidden_neuron_type = _neuron_type(cell.activation, cell, tf)

    hidden_kernel = _value(cell.kernel)  # (M [+ input_d], units)
    hidden_in = hidden_kernel.shape[0] - M

    # memory encoders
    if layer.kernel is not None:
        kernel = _value(layer.kernel)  # (input_d [+ units], memory_d)
    else:  # no kernel: u is the (concatenated) input itself
        kernel = np.eye(memory_d)
    input_d = kernel.shape[0] - (units if hidden_to_memory else 0)
    if input_d < 1 or (input_to_hidden and hidden_in != input_d):
        raise ValueError(  # pragma: no cover (Keras would not have built this)
            f"inconsistent shapes in {layer.name!r}: memory encoders {kernel.shape}, "
            f"hidden kernel {hidden_kernel.shape}"
        )

    if layer.bias is not None and np.any(_value(layer.bias) != 0):
        raise ValueError(
            f"{layer.name!r} has use_bias=True with a nonzero memory bias, which "
            "the Nengo LMU has no parameter for (its memory input is "
            "e_x x + e_h h + e_m m, without a constant term)"
        )

    params = {
        "e_x": kernel[:input_d].T,
        "e_h": kernel[input_d:].T if hidden_to_memory else np.zeros((memory_d, units)),
        "e_m": (
            _value(layer.recurrent_kernel).T if memory_to_memory else np.zeros((memory_d, M))
        ),
        "W_x": hidden_kernel[M:].T if input_to_hidden else np.zeros((units, input_d)),
        "W_h": (
            _value(cell.recurrent_kernel).T
            if hidden_recurrent
            else np.zeros((units, units))
        ),
        "W_m": hidden_kernel[:M].T,
        "bias": _value(cell.bias) if cell.bias is not None else np.zeros(units),
    }
    kwargs = dict(
        units=units,
        order=order,
        theta=theta,
        input_d=input_d,
        memory_d=memory_d,
        hidden_neuron_type=hidden_neuron_type,
        hidden_to_memory=hidden_to_memory,
        memory_to_memory=memory_to_memory,
        input_to_hidden=input_to_hidden,
        hidden_recurrent=hidden_recurrent,
        discretizer=discretizer,
    )
    params = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in params.items()}
    return params, kwargs


def from_keras(model_or_layer, **lmu_kwargs):
    """Build a Nengo `LMU` with the weights of a trained keras-lmu layer.

    The returned network computes the Keras layer's ``return_sequences=True``
    output: its ``output`` at simulator step ``k`` (``dt`` of any value; one
    step is one sequence element) is the Keras output for element ``k``, from
    zero initial states, to float32 round-off (the Nengo network computes in
    float64).

    Parameters
    ----------
    model_or_layer : keras layer or `tf.keras.Model`
        A built (called or fitted) ``keras_lmu.LMU``, ``keras_lmu.LMUCell``
        (alone or inside a ``tf.keras.layers.RNN``) or
        ``keras_lmu.LMUFeedforward``, or a Keras model containing exactly one
        such layer.
    **lmu_kwargs
        Further arguments of `LMU`: ``hidden_neuron_type`` (e.g. the spiking
        counterpart of the converted rate type), ``closed_form``, ``label``,
        ``seed``, ``add_to_container``. Those the Keras layer determines
        (sizes, ``theta``, flags, ``discretizer``, ``params``) are refused.

    Returns
    -------
    `nengo_lmu.lmu.LMU`
        A new network (added to the current ``with nengo.Network()`` context,
        if any, like any Nengo network), with ``params`` from Keras.

    Raises
    ------
    ValueError
        For anything the Nengo LMU cannot represent exactly: a
        ``hidden_cell`` other than ``tf.keras.layers.Dense`` or
        ``tf.keras.layers.SimpleRNNCell`` (including ``hidden_cell=None``,
        whose output is the memory itself: the Nengo LMU's output is always a
        layer of neurons); a hidden activation other than ``"relu"``,
        ``"tanh"`` or ``"sigmoid"`` (a linear one included: nengo has no
        linear neuron type, and `nengo.Direct` is not allowed); a nonzero
        memory bias (``use_bias=True``); an ``RNN`` with ``go_backwards``;
        a layer that is not built; a model without exactly one keras-lmu
        layer; a structural ``lmu_kwargs``.

    Notes
    -----
    * ``trainable_theta``: the trained value ``1 / theta_inv`` is used.
    * ``dropout`` and ``recurrent_dropout`` (of the LMU and of the hidden
      cell) only act in training; they are ignored, which is what Keras does
      at inference.
    * Regularizers, constraints and initializers do not matter after
      training and are ignored; a ``stateful`` RNN is converted as if its
      state were reset (the Nengo LMU starts from zero after
      ``sim.reset()``).
    * ``LMUFeedforward`` (and ``LMU`` without recurrent connections and
      trainable theta, which uses it) computes the memory by convolving with
      an impulse response of the build-time sequence length (``5 * theta``
      steps if the length was unknown) and, with ``conv_mode="raw"``,
      truncated by ``truncate_ir``; the Nengo LMU runs the exact recurrence,
      so the two agree exactly only within that impulse response.
    """
    from nengo_lmu.lmu import LMU  # pylint: disable=import-outside-toplevel

    refused = sorted(set(lmu_kwargs) & set(_STRUCTURAL))
    if refused:
        raise ValueError(
            f"from_keras takes {refused} from the Keras layer; they cannot be "
            "passed as lmu_kwargs"
        )
    params, kwargs = keras_params(model_or_layer)
    kwargs.update(lmu_kwargs)
    return LMU(params=params, **kwargs)
