"""`nengo_lmu.training`: the NengoDL settings (the dense plan computes the same
thing as NengoDL's default plan, and only the LMU's weights are trained), and the
training API's refusal of bad arguments before any work."""

import json

import nengo
import numpy as np
import pytest

nengo_dl = pytest.importorskip("nengo_dl")
tf = pytest.importorskip("tensorflow")

from nengo_lmu.lmu import build_classifier
from nengo_lmu.dl_plan import dense_step_simplification
from nengo_lmu.training import configure_nengo_dl

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


def test_predict_steps(rng, allclose):
    """``steps`` reads the logits after those steps: on NengoDL and nengo those of
    the sequences cut there, and on the parallel network those of the closed form."""
    from nengo_lmu.training import predict

    params = _params(rng)
    x = rng.uniform(-1, 1, size=(3, T, CONFIG["input_d"]))
    steps = [4, 9, T]
    cut = np.stack([predict(build_classifier(CONFIG, params), x[:, :s], batch_size=3)
                    for s in steps], axis=1)
    logits_dl = predict(build_classifier(CONFIG, params), x, batch_size=3, steps=steps)
    assert logits_dl.shape == (3, 3, CONFIG["n_classes"])
    assert allclose(logits_dl, cut, atol=1e-5)
    assert allclose(predict(build_classifier(CONFIG, params), x, backend="nengo",
                            steps=steps), cut, atol=1e-5)
    # the closed form (a feed-forward LMU: no recurrence into or inside the memory)
    ff = dict(SMALL, input_d=2)
    params = {k: rng.normal(scale=0.3, size=v.shape)
              for k, v in build_classifier(ff).get_params().items()}
    sequential = predict(build_classifier(ff, params, method="sequential"), x, batch_size=3,
                         steps=steps)
    parallel = predict(build_classifier(ff, params, method="parallel"), x, batch_size=3,
                       method="parallel", steps=steps)
    assert allclose(parallel, sequential, atol=1e-5)
    for bad in ([0], [T + 1], [], [1.5]):
        with pytest.raises(ValueError, match=rf"steps must be .* in 1\.\.{T}"):
            predict(build_classifier(CONFIG, params=None), x, steps=bad)


# --- the training API refuses bad arguments before any work -------------------

SMALL = dict(n_classes=2, units=4, order=3, theta=5.0, input_d=1)
TUNED = {"memory_neurons": 20, "memory_max_rate": 600.0, "memory_synapse": 0.1,
         "hidden_synapse": 0.005, "seed": 2, "max_rate": 300.0, "dt": 0.001}


def _small_data():
    rng = np.random.RandomState(0)
    return rng.uniform(-1, 1, (10, 5, 1)), np.arange(10) % 2


def _good_params(**changes):
    params = {**build_classifier(SMALL, method="parallel", seed=0).get_params(), **changes}
    return {k: v for k, v in params.items() if v is not None}


def _states(n=10, shape=None, fill=0.0):
    """Memory states for readout='spiking' (hold_steps=4, window=2)."""
    return tuple(np.full(shape or (3, n, 3), fill) for _ in range(2))


SPIKING = dict(readout="spiking", hold_steps=4, window=2, readout_draws=1,
               readout_loss="window", spiking_memory=TUNED)


def _args(config=None, **kwargs):
    """A call of `train` with ``kwargs`` (and ``config``) replacing the defaults
    of a call that would train."""
    return lambda run: run(SMALL if config is None else config, **kwargs)


NAN, INF = float("nan"), float("inf")


class _Augment:
    """An augmentation that changes nothing, with the given ``settings``."""

    def __init__(self, settings=None):
        self.settings = settings or {"translate": 1, "permutation_seed": 0}

    def __call__(self, x, rng):
        return x

#: One row per bad argument: the call (given `train` into a fresh directory),
#: the error and a regex of its message.
BAD_TRAIN_ARGS = {
    "batch_size 0": (_args(batch_size=0), ValueError, r"batch_size must be an integer >= 1, "
                                                      r"got 0$"),
    "batch_size -100": (_args(batch_size=-100), ValueError,
                        r"batch_size must be an integer >= 1, got -100"),
    "batch_size 50.0": (_args(batch_size=50.0), ValueError,
                        r"batch_size must be an integer >= 1, got 50\.0"),
    "batch_size True": (_args(batch_size=True), ValueError,
                        r"batch_size must be an integer >= 1, got True"),
    "epochs '2'": (_args(epochs="2"), ValueError, r"epochs must be an integer >= 1, got '2'"),
    "epochs 0": (_args(epochs=0), ValueError, r"epochs must be an integer >= 1, got 0"),
    "learning_rate 'fast'": (_args(learning_rate="fast"), ValueError,
                             r"learning_rate must be a finite real number > 0, got 'fast'"),
    "learning_rate nan": (_args(learning_rate=NAN), ValueError,
                          r"learning_rate must be a finite real number > 0, got nan"),
    "learning_rate inf": (_args(learning_rate=INF), ValueError,
                          r"learning_rate must be a finite real number > 0, got inf"),
    "learning_rate negative": (_args(learning_rate=-1e-3), ValueError,
                               r"learning_rate must be a finite real number > 0, got -0\.001"),
    "learning_rate 0": (_args(learning_rate=0), ValueError,
                        r"learning_rate must be a finite real number > 0, got 0"),
    "weight_decay nan": (_args(weight_decay=NAN), ValueError,
                         r"weight_decay must be a finite real number >= 0, got nan"),
    "weight_decay negative": (_args(weight_decay=-0.1), ValueError,
                              r"weight_decay must be a finite real number >= 0, got -0\.1"),
    "clipnorm 0": (_args(clipnorm=0), ValueError,
                   r"clipnorm must be a finite real number > 0 or null \(None\), got 0"),
    "clipnorm negative": (_args(clipnorm=-1.0), ValueError, r"clipnorm must be .* got -1\.0"),
    "clipnorm nan": (_args(clipnorm=NAN), ValueError, r"clipnorm must be .* got nan"),
    "decay_epochs 0": (_args(decay_epochs=0), ValueError,
                       r"decay_epochs must be an integer >= 1 or None, got 0"),
    "decay_epochs 2.5": (_args(decay_epochs=2.5), ValueError,
                         r"decay_epochs must be an integer >= 1 or None, got 2\.5"),
    "method unknown": (_args(method="fast"), ValueError,
                       r"method must be one of \('parallel', 'sequential'\), got 'fast'"),
    "seed -1": (_args(seed=-1), ValueError, r"seed must be an integer in 0\.\.4294967295, "
                                            r"got -1"),
    "seed 2**32": (_args(seed=2**32), ValueError, r"seed must be an integer in 0\.\.4294967295"
                                                  r", got 4294967296"),
    "seed 1.5": (_args(seed=1.5), ValueError, r"seed must be an integer .* got 1\.5"),
    "seed None": (_args(seed=None), ValueError, r"seed must be an integer .* got None"),
    # the model config
    "config lacks units": (_args({k: v for k, v in SMALL.items() if k != "units"}),
                           ValueError, r"config lacks 'units' \(required keys: n_classes, "
                                       r"units, order, theta, input_d\)"),
    "config unknown key": (_args(dict(SMALL, neurons=4)), ValueError,
                           r"config has unknown key 'neurons' \(known keys: n_classes, units"),
    "config units '4'": (_args(dict(SMALL, units="4")), ValueError,
                         r"config\.units must be an integer >= 1, got '4'"),
    "config a list": (_args([4, 3]), ValueError, r"config must be a JSON object"),
    "config neuron instance": (_args(dict(SMALL, hidden_neuron_type=nengo.LIF())), ValueError,
                               r"config\.hidden_neuron_type must be one of \("),
    "parallel recurrent": (_args(dict(SMALL, hidden_recurrent=True)), ValueError,
                           r"method='parallel' needs a memory that is a linear filter .* "
                           r"config sets hidden_recurrent; use method='sequential'"),
    "model too large": (_args(dict(SMALL, units=10**10)), ValueError,
                        r"training this model needs an estimated [\d.]+ [PT]iB of memory "
                        r"\(.*\), more than this machine's [\d.]+ [GT]iB: lower units "
                        r"\(now 10000000000\) or order \(now 3\)"),
    # the readout
    "readout_draws 0": (_args(readout="hold", hold_steps=4, window=2, readout_draws=0),
                        ValueError, r"readout_draws must be an integer >= 1, got 0"),
    "readout_draws 0, exact": (_args(readout_draws=0), ValueError,
                               r"readout_draws must be an integer >= 1, got 0"),
    "memory_noise nan": (_args(readout="hold", hold_steps=4, window=2, memory_noise=NAN),
                         ValueError, r"memory_noise must be a finite number >= 0, got nan"),
    "memory_noise, exact": (_args(memory_noise=0.1), ValueError,
                            r"memory_noise applies to readout='hold' only, got "
                            r"memory_noise=0\.1 with readout='exact'"),
    "window > hold_steps": (_args(readout="hold", hold_steps=4, window=5), ValueError,
                            r"window \(5\) must be at most hold_steps \(4\)"),
    "memory_states a string": (_args(**SPIKING, memory_states="states"), ValueError,
                               r"needs memory_states=\(train_states, valid_states\), got str"),
    "memory_states ragged": (_args(**SPIKING, memory_states=([[1.0], [1.0, 2.0]], None)),
                             ValueError, r"training memory_states must be an array of real "
                                         r"numbers of shape \(3, 10, 3\)"),
    "memory_states NaN": (_args(**SPIKING, memory_states=_states(fill=NAN)), ValueError,
                          r"training memory_states contain NaN or inf"),
    "memory_states beyond float32": (_args(**SPIKING, memory_states=_states(fill=1e300)),
                                     ValueError, r"contain NaN or inf \(or values beyond "
                                                 r"float32\)"),
    "spiking_memory incomplete": (_args(**{**SPIKING, "spiking_memory": {"seed": 0}},
                                        memory_states=_states()), ValueError,
                                  r"spiking_memory lacks 'memory_neurons', 'memory_max_rate'"),
    "spiking_memory a list": (_args(**{**SPIKING, "spiking_memory": [1]},
                                    memory_states=_states()), ValueError,
                              r"spiking_memory must be a dict of the memory's settings"),
    # the initial weights
    "initial_params NaN": (_args(initial_params=_good_params(W_out=np.full((2, 4), NAN))),
                           ValueError, r"initial_params\['W_out'\] holds NaN or inf at 8 of 8"),
    "initial_params inf": (_args(initial_params=_good_params(e_x=np.array([[INF]]))),
                           ValueError, r"initial_params\['e_x'\] holds NaN or inf"),
    "initial_params of another model": (_args(initial_params=_good_params(W_m=np.ones((5, 3)))),
                                        ValueError, r"initial_params\['W_m'\] has shape "
                                                    r"\(5, 3\), but the model .* needs \(4, 3\)"),
    "initial_params lacks b_out": (_args(initial_params=_good_params(b_out=None)), ValueError,
                                   r"initial_params lacks 'b_out' \(shape \(2,\)\)"),
    "initial_params unknown": (_args(initial_params=_good_params(W=np.ones(2))), ValueError,
                               r"initial_params has unknown weight 'W' \(known: e_x"),
    "initial_params a list": (_args(initial_params=[np.ones(2)]), ValueError,
                              r"initial_params must be a dict of weight arrays, got list"),
    "initial_params strings": (_args(initial_params=_good_params(bias=np.array(list("abcd")))),
                               ValueError, r"initial_params\['bias'\] must be an array of "
                                           r"real numbers, got dtype <U1"),
    # the augmentation
    "augment not callable": (_args(augment="shift"), ValueError,
                             r"augment must be None or a callable augment\(x, rng\), got str"),
    "augment without settings": (_args(augment=lambda x, rng: x), ValueError,
                                 r"augment\.settings must be a JSON object \(keys translate, "
                                 r"permutation_seed\), got NoneType None"),
    "augment settings unknown": (_args(augment=_Augment({"translate": 1, "rotate": 5})),
                                 ValueError, r"augment\.settings has unknown key 'rotate'"),
    "augment translate 0": (_args(augment=_Augment({"translate": 0, "permutation_seed": 0})),
                            ValueError, r"augment\.settings\.translate must be an integer in "
                                        r"1\.\.27, got 0"),
    "augment with readout hold": (_args(readout="hold", hold_steps=4, window=2,
                                        augment=_Augment()), ValueError,
                                  r"augment goes with readout='exact' only, got "
                                  r"readout='hold'"),
    # the metadata
    "meta overrides a setting": (_args(meta={"epochs": 5}), ValueError,
                                 r"meta has unknown key 'epochs' \(known keys: task, "
                                 r"permutation_seed, data_source, n_train, n_valid, n_synthetic, "
                                 r"data_file, base_model\)"),
    "meta n_train a string": (_args(meta={"n_train": "100"}), ValueError,
                              r"meta\.n_train must be an integer >= 1, got '100'"),
    "meta a list": (_args(meta=["psmnist"]), ValueError, r"meta must be a JSON object"),
}


@pytest.mark.parametrize("call, error, message", BAD_TRAIN_ARGS.values(),
                         ids=BAD_TRAIN_ARGS.keys())
def test_train_refuses_bad_arguments(tmp_path, monkeypatch, call, error, message):
    from nengo_lmu.training import train

    def never(*args, **kwargs):
        raise AssertionError("a simulator was built before the arguments were checked")

    monkeypatch.setattr(nengo_dl, "Simulator", never)
    out = tmp_path / "model"
    x, y = _small_data()
    defaults = dict(epochs=1, batch_size=10, verbose=0, log=lambda msg: None)
    with pytest.raises(error, match=message):
        call(lambda config, **kwargs: train(config, (x, y), (x, y), str(out),
                                            **{**defaults, **kwargs}))
    assert not (out / "config.json").exists()
    assert not out.exists()  # nothing written, not even the directory


def test_check_train_args():
    from nengo_lmu.training import check_train_args

    assert check_train_args(10, "parallel", 100, 1e-3, 0.0, None, None, 0) is None
    assert check_train_args(np.int64(30), "sequential", np.int32(50), np.float32(2e-3), 0.05,
                            1.0, 20, 2**32 - 1) is None
    with pytest.raises(ValueError, match=r"epochs must be an integer >= 1, got '2'"):
        check_train_args("2", "parallel", 100, 1e-3, 0.0, None, None, 0)


def test_check_model_size(monkeypatch):
    import os

    from nengo_lmu.training import check_model_size

    psmnist = dict(n_classes=10, units=346, order=256, theta=784.0, input_d=1)
    assert check_model_size(psmnist, 60000) < 2**30  # the defaults: well below 1 GiB
    assert check_model_size(psmnist, 60000, batch_size=100, n_steps=784,
                            method="sequential") < 4 * 2**30
    run = {"model": psmnist, "batch_size": 100, "method": "parallel"}
    assert check_model_size(run, 60000) == check_model_size(psmnist, 60000)

    sysconf = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": 4 * 2**20}  # 16 GiB
    monkeypatch.setattr(os, "sysconf", lambda name: sysconf[name])
    with pytest.raises(ValueError, match=r"needs an estimated 9\d\d\.\d GiB of memory "
                       r"\(7\d\d\.\d GiB for the weights and optimizer state, .*\), more than "
                       r"this machine's 16\.0 GiB: lower units \(now 100000000\) or order "
                       r"\(now 256\)"):
        check_model_size(dict(psmnist, units=100_000_000), 60000)
    with pytest.raises(ValueError, match=r"for the closed-form memory and inputs of "
                       r"100000000 sequences.*: lower the number of training sequences "
                       r"\(now about 100000000\) or order \(now 256\)"):
        check_model_size(psmnist, 100_000_000)
    with pytest.raises(ValueError, match=r"activations of a minibatch of 100000 over 784 "
                       r"steps\), more than .*: lower batch_size \(now 100000\) or the "
                       r"sequence length"):
        check_model_size(psmnist, 100_000, batch_size=100_000, n_steps=784,
                         method="sequential")
    with pytest.raises(ValueError, match=r"n_sequences must be an integer >= 1, got 0"):
        check_model_size(psmnist, 0)


def test_train_stops_when_the_loss_diverges(tmp_path):
    """A NaN loss stops training before the epoch is committed: the model
    directory keeps the last good epoch, in strict JSON, and resumes from it
    (and diverges again: the run is deterministic)."""
    from nengo_lmu.model_dir import load_model, read_config
    from nengo_lmu.training import TrainingDiverged, train

    x, y = _small_data()
    out = tmp_path / "model"
    kwargs = dict(epochs=3, batch_size=10, learning_rate=1e38, verbose=0)
    message = (r"training diverged in epoch 2: the loss is nan.*; nothing of epoch 2 was "
               r"saved \(.*model keeps the checkpoint of epoch 1\)\. The same settings diverge "
               r"again .*lower learning_rate \(now 1e\+38")
    logs = []
    with pytest.raises(TrainingDiverged, match=message):
        train(SMALL, (x, y), (x, y), str(out), log=logs.append, **kwargs)
    assert [m.split(":")[0] for m in logs] == ["epoch 1"]
    history = json.loads((out / "history.json").read_text())
    assert history["epoch"] == [1] and np.isfinite(history["loss"][0])
    run_config, params = load_model(str(out))  # the last good epoch, checked
    assert run_config == read_config(str(out)) and run_config["learning_rate"] == 1e38
    with pytest.raises(TrainingDiverged, match=message):
        train(SMALL, (x, y), (x, y), str(out), log=logs.append, **kwargs)
    assert logs[-1].startswith("resuming from") and logs[-1].endswith("after epoch 1")
    assert json.loads((out / "history.json").read_text()) == history


class _Noisy(_Augment):
    """Adds noise drawn from the rng, and records the first draw of each call."""

    def __init__(self, settings=None):
        super().__init__(settings)
        self.draws = []

    def __call__(self, x, rng):
        self.draws.append(rng.randint(2**31))
        return x + rng.normal(scale=0.5, size=x.shape)


def test_train_augments_every_epoch_from_seed_and_epoch(tmp_path):
    """``augment`` is called once per epoch with ``RandomState([seed, epoch, 1])``,
    changes what is trained, is recorded in config.json, and a run killed after
    an epoch resumes to the very bytes of an uninterrupted one."""
    from nengo_lmu.training import train

    x, y = _small_data()
    kwargs = dict(epochs=3, batch_size=10, seed=4, verbose=0, log=lambda msg: None)
    augment = _Noisy()
    train(SMALL, (x, y), (x, y), str(tmp_path / "a"), augment=augment, **kwargs)
    assert augment.draws == [np.random.RandomState([4, k, 1]).randint(2**31) for k in range(3)]
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    assert config["augment"] == {"translate": 1, "permutation_seed": 0}
    params = (tmp_path / "a" / "params.npz").read_bytes()
    train(SMALL, (x, y), (x, y), str(tmp_path / "plain"), **kwargs)
    assert "augment" not in json.loads((tmp_path / "plain" / "config.json").read_text())
    assert (tmp_path / "plain" / "params.npz").read_bytes() != params

    class Killed(Exception):
        pass

    def kill_after_first_epoch(msg):
        if msg.startswith("epoch 1:"):
            raise Killed

    with pytest.raises(Killed):
        train(SMALL, (x, y), (x, y), str(tmp_path / "b"), augment=_Noisy(),
              **{**kwargs, "log": kill_after_first_epoch})
    resumed = _Noisy()
    train(SMALL, (x, y), (x, y), str(tmp_path / "b"), augment=resumed, **kwargs)
    assert resumed.draws == augment.draws[1:]  # epochs 2 and 3 only
    assert (tmp_path / "b" / "params.npz").read_bytes() == params
    # other augmentation settings are refused on resume
    with pytest.raises(ValueError, match=r"other settings \(augment: \{'translate': 1, "
                       r"'permutation_seed': 0\} -> \{'translate': 2, "):
        train(SMALL, (x, y), (x, y), str(tmp_path / "b"),
              augment=_Noisy({"translate": 2, "permutation_seed": 0}), **kwargs)
    with pytest.raises(ValueError, match=r"other settings \(augment: \{'translate': 1, "
                       r"'permutation_seed': 0\} -> None"):
        train(SMALL, (x, y), (x, y), str(tmp_path / "b"), **kwargs)


def test_train_refuses_an_augmentation_of_another_shape(tmp_path):
    from nengo_lmu.training import train

    x, y = _small_data()
    class Cut(_Augment):
        def __call__(self, x, rng):
            return x[:, 1:]

    with pytest.raises(ValueError, match=r"augment must return finite sequences of shape "
                                         r"\(10, 5, 1\), got shape \(10, 4, 1\)"):
        train(SMALL, (x, y), (x, y), str(tmp_path / "m"), epochs=1, batch_size=10,
              augment=Cut(), verbose=0, log=lambda msg: None)
