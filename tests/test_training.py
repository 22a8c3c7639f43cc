"""NengoDL settings of `nengo_lmu.training`: the dense plan computes the same
thing as NengoDL's default plan, and only the LMU's weights are trained."""

import nengo
import numpy as np
import pytest

nengo_dl = pytest.importorskip("nengo_dl")
tf = pytest.importorskip("tensorflow")

from nengo_lmu.lmu import build_classifier
from nengo_lmu.training import configure_nengo_dl, dense_step_simplification

CONFIG = dict(n_classes=3, units=6, order=5, theta=12.0, input_d=2, hidden_neuron_type="Tanh",
              hidden_to_memory=True, memory_to_memory=True, input_to_hidden=True,
              hidden_recurrent=True)
T = 12


def _params(rng):
    shapes = {k: v.shape for k, v in build_classifier(CONFIG).get_params().items()}
    # all weights non-zero, so that every path carries gradient
    return {k: rng.normal(scale=0.3, size=shape) for k, shape in shapes.items()}


def _fit_once(params, x, y, fast):
    """Predictions before, weights after one SGD step; trainable count; A after."""
    clf = configure_nengo_dl(build_classifier(CONFIG, params), fast=fast)
    with nengo_dl.Simulator(clf, minibatch_size=len(x), progress_bar=False) as sim:
        before = sim.predict({clf.input: x}, n_steps=T, verbose=0)[clf.probe][:, -1]
        sim.compile(optimizer=tf.optimizers.SGD(0.5),
                    loss={clf.probe: tf.losses.SparseCategoricalCrossentropy(from_logits=True)})
        sim.fit({clf.input: x}, {clf.probe: y[:, None, None]}, epochs=1, verbose=0,
                shuffle=False)
        n_train = int(sum(np.prod(w.shape) for w in sim.keras_model.trainable_weights))
        fixed = [np.array(sim.data[c].weights) for c in clf.lmu.fixed_connections]
        write_types = dict(sim.tensor_graph.signals.write_types)
        after = clf.get_params(sim)
    return clf, before, after, n_train, fixed, write_types


def test_dense_plan_same_result_as_nengo_dl_plan(rng, allclose):
    params = _params(rng)
    x = rng.uniform(-1, 1, size=(4, T, CONFIG["input_d"])).astype(np.float32)
    y = rng.randint(CONFIG["n_classes"], size=4)
    clf, before_f, after_f, n_f, fixed_f, writes_f = _fit_once(params, x, y, fast=True)
    _, before_d, after_d, n_d, fixed_d, _ = _fit_once(params, x, y, fast=False)

    # same forward pass, and the same as nengo's reference simulator
    assert allclose(before_f, before_d, atol=1e-5)
    ref = build_classifier(CONFIG, params)
    ref.input.output = nengo.processes.PresentInput(x[0], 0.001)
    with nengo.Simulator(ref, progress_bar=False) as sim:
        sim.run_steps(T)
    assert allclose(before_f[0], sim.data[ref.probe][-1], atol=1e-5)

    # same gradient step, and it moved every weight
    for name in after_f:
        assert allclose(after_f[name], after_d[name], atol=1e-5), name
        assert not np.allclose(after_f[name], params[name], atol=1e-6), name

    # exactly the classifier's weights are trained; the memory stays fixed
    assert n_f == n_d == clf.n_trainable
    Ad, Bd = clf.lmu.system.discretize(1.0)
    fixed_expected = sorted(a.size for a in (Ad, Bd))
    assert sorted(w.size for w in fixed_f) == fixed_expected
    for w_f, w_d in zip(fixed_f, fixed_d):
        assert allclose(w_f, w_d)
    by_size = {w.size: np.ravel(w) for w in fixed_f}
    assert allclose(by_size[Ad.size], np.ravel(Ad), atol=1e-6)
    assert allclose(by_size[Bd.size], np.ravel(Bd), atol=1e-6)

    # the dense plan writes whole tensors: no scatter into shared arrays
    assert not any(k.startswith("scatter") for k in writes_f), writes_f


def test_dense_step_simplification_replaces_weight_products():
    clf = configure_nengo_dl(build_classifier(CONFIG))
    with nengo_dl.Simulator(clf, minibatch_size=2, progress_bar=False) as sim:
        ops = [op for group in sim.tensor_graph.plan for op in group]
    names = [type(op).__name__ for op in ops]
    assert "DotInc" not in names and "DotSet" not in names
    # one DenseStep per Dense connection: e_x, e_h, e_m, W_x, W_h, W_m,
    # Abar, Bbar, W_out, b_out
    assert names.count("DenseStep") == 10
    # idempotent: NengoDL applies the simplification until nothing changes
    assert dense_step_simplification(ops) is ops


def test_predict_uses_fixed_memory(rng, allclose):
    """`predict` (dense plan) gives the reference simulator's logits."""
    from nengo_lmu.training import predict

    params = _params(rng)
    x = rng.uniform(-1, 1, size=(2, T, CONFIG["input_d"]))
    logits_dl = predict(build_classifier(CONFIG, params), x, batch_size=2)
    logits_ref = predict(build_classifier(CONFIG, params), x, backend="nengo")
    assert allclose(logits_dl, logits_ref, atol=1e-5)
