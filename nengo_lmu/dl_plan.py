"""The fast NengoDL plan for Dense transforms.

NengoDL's default plan merges operators into groups that gather from and
scatter into shared base arrays, and computes a Dense transform as a batched
matrix product with transposes; on a CPU those cost far more than the
arithmetic of a small LMU. This plan computes each Dense transform as one 2-D
matrix product written straight into its target signal (`DenseStep`, a
custom NengoDL operator, put in by the graph simplification
`dense_step_simplification`) and gives every signal its own array
(`dense_settings`): the same results, and backpropagation through the 784
steps of psMNIST several times faster. `nengo_lmu.training.configure_nengo_dl`
applies it (``fast=True``).

Backend glue: TensorFlow and NengoDL are imported inside the functions, so
importing this module imports neither.
"""

#: The `DenseStep` class, made on first use (`_dense_step_op`).
_DENSE_STEP = {}


def _dense_step_op():
    """The `DenseStep` operator class, with its NengoDL builder registered.

    Defined on first use so that importing this module does not import
    TensorFlow.
    """
    if "op" in _DENSE_STEP:
        return _DENSE_STEP["op"]
    # pylint: disable=import-outside-toplevel
    import tensorflow as tf
    from nengo.builder.operator import Operator
    from nengo_dl.builder import Builder, OpBuilder

    class DenseStep(Operator):
        """``Y = A X`` (``inc=False``) or ``Y += A X`` (``inc=True``).

        One Dense transform: ``A`` (weights, not minibatched) times the
        minibatched vector ``X``, written straight into ``Y`` (the
        connection's target signal or a slice of it).
        """

        def __init__(self, A, X, Y, inc, tag=None):
            super().__init__(tag=tag)
            self.inc = bool(inc)
            self.sets = [] if self.inc else [Y]
            self.incs = [Y] if self.inc else []
            self.reads = [A, X]
            self.updates = []

        @property
        def A(self):  # noqa: N802 (nengo's operator naming)
            return self.reads[0]

        @property
        def X(self):  # noqa: N802
            return self.reads[1]

        @property
        def Y(self):  # noqa: N802
            return (self.incs + self.sets)[0]

        def make_step(self, signals, dt, rng):
            A, X, Y, inc = signals[self.A], signals[self.X], signals[self.Y], self.inc

            def step_densestep():
                if inc:
                    Y[...] += A.dot(X)
                else:
                    Y[...] = A.dot(X)

            return step_densestep

    @Builder.register(DenseStep)
    class DenseStepBuilder(OpBuilder):  # pylint: disable=unused-variable
        """``X (batch, n) @ A.T`` with one ``tf.matmul``, no transposes."""

        def build_pre(self, signals, config):
            super().build_pre(signals, config)
            op = self.ops[0]
            self.A_data = signals.combine([op.A])
            self.X_data = signals.combine([op.X])
            self.Y_data = signals.combine([op.Y])
            self.mode = "inc" if op.inc else "update"

        def build_step(self, signals):
            A = signals.gather(self.A_data)
            X = signals.gather(self.X_data)
            signals.scatter(self.Y_data, tf.matmul(X, A, transpose_b=True), mode=self.mode)

        @staticmethod
        def mergeable(x, y):
            return False

    _DENSE_STEP["op"] = DenseStep
    return DenseStep


def dense_step_simplification(operators):
    """NengoDL graph simplification: Dense transforms as `DenseStep` ops.

    Applies NengoDL's default simplifications until nothing changes, then
    replaces every ``DotInc``/``DotSet`` of a weight matrix (not minibatched)
    and a minibatched vector by a `DenseStep`. Where the product is only
    copied into the connection's target (synapse ``None``), the copy is
    dropped and the `DenseStep` writes (or adds) into the target directly.
    Idempotent, so NengoDL's repeated application stops after one more call.

    Parameters
    ----------
    operators : list of `nengo.builder.Operator`

    Returns
    -------
    list of `nengo.builder.Operator`
    """
    # pylint: disable=import-outside-toplevel
    from nengo.builder.operator import Copy, DotInc
    from nengo_dl import graph_optimizer, op_builders

    dense_step = _dense_step_op()
    if any(isinstance(op, dense_step) for op in operators):
        return operators
    while True:
        old = operators
        for simplify in graph_optimizer.default_simplifications:
            operators = simplify(operators)
        if len(old) == len(operators) and all(a is b for a, b in zip(old, operators)):
            break

    sets, incs, reads, updates = graph_optimizer.signal_io_dicts(operators)
    replace, drop = {}, set()
    for op in operators:
        if type(op) not in (DotInc, op_builders.DotSet):  # pylint: disable=unidiomatic-typecheck
            continue
        if op.A.ndim != 2 or op.A.minibatched or not op.X.minibatched:
            continue
        target, inc = op.Y, type(op) is DotInc
        w = op.Y
        if (not inc and not w.is_view and len(sets[w]) == 1 and not incs[w]
                and not updates[w] and len(reads[w]) == 1):
            copy = reads[w][0]
            if (type(copy) is Copy  # pylint: disable=unidiomatic-typecheck
                    and copy.src is w and copy.src_slice is None
                    and (copy.dst_slice is None or isinstance(copy.dst_slice, slice))):
                dst = copy.dst if copy.dst_slice is None else copy.dst[copy.dst_slice]
                if dst.shape == w.shape:
                    target, inc = dst, copy.inc
                    drop.add(copy)
        replace[op] = dense_step(op.A, op.X, target, inc, tag=op.tag)
    return [replace.get(op, op) for op in operators if op not in drop]


def dense_settings():
    """The NengoDL settings of the fast plan (``configure_nengo_dl(clf, fast=True)``).

    Passed to ``nengo_dl.configure_settings`` by
    `nengo_lmu.training.configure_nengo_dl`.

    ``simplifications``: `dense_step_simplification`; ``planner``: NengoDL's
    ``noop_planner`` and ``sorter``: ``noop_order_signals``. Without merged
    operator groups every signal gets its own base array, so every operator
    reads and writes whole tensors instead of gathering from and scattering
    into shared arrays (NengoDL's default plan merges a few copies and so
    makes most writes ``tensor_scatter_nd_update``; on a CPU those, and the
    batched matrix products with their transposes, cost far more than the
    arithmetic of a 212-unit LMU).
    """
    from nengo_dl import graph_optimizer  # pylint: disable=import-outside-toplevel

    return {
        "simplifications": [dense_step_simplification],
        "planner": graph_optimizer.noop_planner,
        "sorter": graph_optimizer.noop_order_signals,
    }
