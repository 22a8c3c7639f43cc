import json

import numpy as np
import pytest

from nengo_lmu.cli import main
from nengo_lmu.data import load_psmnist
from nengo_lmu.model_dir import load_model
from nengo_lmu.tasks.psmnist import TRANSLATE, evaluate_psmnist, train_psmnist
from nengo_lmu.lmu import build_classifier
from nengo_lmu.model_dir import load_params, save_params
from nengo_lmu.readout import feedforward_logits, stream_logits, stream_memories
from nengo_lmu.training import predict

SMALL = dict(units=24, order=16, n_train=3000, batch_size=100, learning_rate=1e-2,
             verbose=0)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("psmnist") / "model"
    history = train_psmnist(str(out), epochs=2, **SMALL)
    return out, history


def test_train_writes_model_dir(trained):
    out, history = trained
    for name in ("config.json", "params.npz", "checkpoint.npz", "history.json",
                 "training.png"):
        assert (out / name).exists(), name
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files
    assert history["epoch"] == [1, 2]
    # 3,000 images, order 16, 24 units, 2 epochs: well above chance (10 %;
    # this configuration reaches 45-50 %)
    assert history["best"]["val_accuracy"] > 0.3
    config = json.loads((out / "config.json").read_text())
    assert config["permutation_seed"] == 0 and config["model"]["units"] == 24
    # by default the training images are translated by up to TRANSLATE pixels
    assert config["augment"] == {"translate": TRANSLATE, "permutation_seed": 0}


def test_params_load_without_pickle(trained):
    out, _ = trained
    with np.load(out / "params.npz", allow_pickle=False) as data:
        assert "param/W_m" in data.files


def test_resume_is_exact(trained, tmp_path):
    """Interrupted after epoch 1 and rerun, training ends with the very bytes
    of an uninterrupted run's params.npz (same seed)."""
    out, history = trained

    class Killed(Exception):
        pass

    def kill_after_first_epoch(msg):
        if msg.startswith("epoch 1:"):
            raise Killed

    interrupted = tmp_path / "interrupted"
    with pytest.raises(Killed):
        train_psmnist(str(interrupted), epochs=2, log=kill_after_first_epoch, **SMALL)
    assert json.loads((interrupted / "history.json").read_text())["epoch"] == [1]
    resumed = train_psmnist(str(interrupted), epochs=2, **SMALL)
    assert resumed["epoch"] == [1, 2]
    assert resumed["val_accuracy"] == history["val_accuracy"]
    assert (interrupted / "params.npz").read_bytes() == (out / "params.npz").read_bytes()


def test_resume_refuses_changed_settings(trained, tmp_path):
    out, _ = trained
    copy = tmp_path / "changed"
    copy.mkdir()
    for p in out.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    with pytest.raises(ValueError, match=r"other settings \(batch_size: 100 -> 50; "
                       r"epochs: 2 -> 3\)"):
        train_psmnist(str(copy), epochs=3, **{**SMALL, "batch_size": 50})
    with pytest.raises(ValueError, match=r"other settings \(augment: \{'translate': 1, "
                       r"'permutation_seed': 0\} -> \{'translate': 2, 'permutation_seed': 0\}"):
        train_psmnist(str(copy), epochs=2, translate=2, **SMALL)


def test_resume_refuses_other_model(trained, tmp_path):
    out, _ = trained
    copy = tmp_path / "other"
    copy.mkdir()
    for p in out.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    with pytest.raises(ValueError, match="other settings .*model: "):
        train_psmnist(str(copy), epochs=3, **dict(SMALL, units=30))


def test_parallel_weights_run_in_temporal_network(trained, allclose):
    """The weights trained in closed form give the same logits when the
    temporal network steps through all 784 pixels in nengo."""
    out, _ = trained
    run_config, params = load_model(str(out))
    x = load_psmnist(0)["test"][0][:3]
    parallel = build_classifier(run_config["model"], params, method="parallel")
    temporal = build_classifier(run_config["model"], params, method="sequential")
    logits_parallel = predict(parallel, x, method="parallel", batch_size=3)
    logits_nengo = predict(temporal, x, method="sequential", backend="nengo")
    assert allclose(logits_nengo, logits_parallel, atol=1e-4)


def test_evaluate_cli(trained, tmp_path, capsys):
    out, _ = trained
    path = tmp_path / "eval.json"
    assert main(["psmnist", "evaluate", "--model", str(out), "--n-test", "50",
                 "--json", str(path)]) == 0
    result = json.loads(path.read_text())
    assert result["n_test"] == 50 and result["backend"] == "dl"
    assert 0.25 < result["accuracy"] <= 1.0
    assert "test accuracy" in capsys.readouterr().out


def test_evaluate_errors(trained, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["psmnist", "evaluate", "--model", str(tmp_path / "nothing")])
    assert e.value.code == 2
    assert "does not exist" in capsys.readouterr().err
    out, _ = trained
    with pytest.raises(ValueError, match="n_test must lie in"):
        evaluate_psmnist(str(out), n_test=20000)
    with pytest.raises(ValueError, match=r"n_test must lie in 1\.\.10 \(the test images from "
                       r"start = 9990 on\), got 11"):
        evaluate_psmnist(str(out), n_test=11, start=9990)
    with pytest.raises(ValueError, match=r"start must lie in 0\.\.9999, got 10000"):
        evaluate_psmnist(str(out), start=10000)
    with pytest.raises(ValueError, match=r"start must be an integer >= 0, got -1"):
        evaluate_psmnist(str(out), start=-1)


def test_evaluate_nengo_batched(trained, tmp_path):
    """--backend nengo --batch-size B: B images side by side in one simulator,
    the predictions of one image after another."""
    out, _ = trained
    alone = evaluate_psmnist(str(out), backend="nengo", n_test=5)
    path = tmp_path / "batched.json"
    assert main(["psmnist", "evaluate", "--model", str(out), "--backend", "nengo",
                 "--n-test", "5", "--batch-size", "3", "--no-progress",
                 "--json", str(path)]) == 0
    batched = json.loads(path.read_text())
    assert alone["batch_size"] is None and batched["batch_size"] == 3
    assert batched["predictions"] == alone["predictions"]
    assert batched["accuracy"] == alone["accuracy"] and batched["n_test"] == 5


def test_evaluate_reads_hold_model_as_trained(tmp_path):
    """A model trained for the hold readout is evaluated on NengoDL and nengo as
    trained: each image from rest, then hold_steps zeros, logits averaged over the
    window (the closed form's figure); m_T is reported beside it."""
    out = tmp_path / "hold"
    train_psmnist(str(out), epochs=2, readout="hold", hold_steps=60, window=20, **SMALL)
    result = evaluate_psmnist(str(out), n_test=60, progress_bar=False)
    # independently, in numpy on the closed-form memory
    run_config, params = load_model(str(out))
    x, y = load_psmnist(0)["test"]
    x, y = x[:60], y[:60]
    clf = build_classifier(run_config["model"], params=params, method="parallel")
    held = stream_logits(run_config["model"], clf.get_params(),
                         stream_memories(clf.lmu, x, 60, 20, from_rest=True)).argmax(1)
    final = feedforward_logits(run_config["model"], clf.get_params(),
                               clf.lmu.closed_form_memory(x)).argmax(1)
    assert result["predictions"] == held.tolist()
    assert result["accuracy"] == np.mean(held == y)
    assert result["final_state_accuracy"] == np.mean(final == y)
    assert result["training_readout"]["scheme"] == "hold"
    assert (result["hold_steps"], result["window"], result["from_rest"]) == (60, 20, True)
    nengo = evaluate_psmnist(str(out), backend="nengo", n_test=4, batch_size=4)
    assert nengo["predictions"] == held[:4].tolist()
    # on Loihi the rate model beside the chip's figure is read the same way
    loihi = evaluate_psmnist(str(out), backend="loihi", n_test=8, batch_size=8,
                             progress_bar=False)
    assert loihi["rate_accuracy"] == np.mean(held[:8] == y[:8])
    assert loihi["final_state_accuracy"] == np.mean(final[:8] == y[:8])
    assert loihi["agreement"] == np.mean(np.array(loihi["predictions"]) == held[:8])


def test_evaluate_loihi_streams(trained, tmp_path):
    """--streams: the batched emulator runs the images back to back, in B
    streams; with one stream, the predictions of one nengo_loihi simulation."""
    out, _ = trained
    one_simulation = evaluate_psmnist(str(out), backend="loihi", n_test=4, progress_bar=False)
    path = tmp_path / "streams.json"
    assert main(["psmnist", "evaluate", "--model", str(out), "--backend", "loihi",
                 "--n-test", "4", "--batch-size", "1", "--streams", "--no-progress",
                 "--json", str(path)]) == 0
    streams = json.loads(path.read_text())
    assert one_simulation["from_rest"] is False and streams["from_rest"] is False
    assert streams["predictions"] == one_simulation["predictions"]
    assert streams["accuracy"] == one_simulation["accuracy"]
    with pytest.raises(ValueError, match="streams=True needs backend='loihi' and a batch_size"):
        evaluate_psmnist(str(out), backend="loihi", n_test=4, streams=True)
    with pytest.raises(ValueError, match="streams must be True or False"):
        evaluate_psmnist(str(out), backend="loihi", n_test=4, batch_size=2, streams="yes")


def test_params_from_other_model(trained, tmp_path):
    out, _ = trained
    run_config, params = load_model(str(out))
    config = dict(run_config["model"], units=30)
    with pytest.raises(ValueError, match=r"params\['\w+'\] has shape .*24.*needs .*30"):
        build_classifier(config, params)


def test_save_params_roundtrip(tmp_path, allclose):
    params = {"a": np.arange(3.0), "b": np.eye(2)}
    save_params(tmp_path / "p.npz", params, epoch=3)
    loaded, meta = load_params(tmp_path / "p.npz")
    assert meta == {"epoch": 3}
    assert allclose(loaded["b"], params["b"])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["psmnist", "train", "--out", "X", "--epochs", "0"], "--epochs must be >= 1"),
        (["psmnist", "train", "--out", "X", "--method", "fast"], "invalid choice: 'fast'"),
        (["psmnist", "train", "--out", "X", "--neuron-type", "ReLU"], "invalid choice: 'ReLU'"),
        (["psmnist", "evaluate", "--model", "X", "--backend", "tpu"], "invalid choice: 'tpu'"),
        (["psmnist", "train", "--out", "X", "--hidden-recurrent"], "need --method sequential"),
        (["psmnist", "evaluate", "--model", "X", "--n-test", "0"], "--n-test must be >= 1"),
        (["psmnist", "evaluate", "--model", "X", "--start", "-1"], "--start must be >= 0"),
    ],
)
def test_bad_psmnist_flags(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda x, y: (x[:, :100], y), "validation data.*must have 100 steps, got 784"),
        (lambda x, y: (np.where(np.arange(784)[None, :, None] == 5, np.nan, x), y), "NaN"),
        (lambda x, y: (x, np.where(np.arange(len(y)) == 3, 12, y)), "0..9"),
        (lambda x, y: (np.concatenate([x, x], axis=2), y), "training data.*input dimension 1"),
    ],
)
def test_train_rejects_bad_data(mutate, message, tmp_path):
    from nengo_lmu.training import train

    rng = np.random.RandomState(0)
    x = rng.rand(100, 784, 1).astype(np.float32)
    y = rng.randint(0, 10, 100)
    config = dict(n_classes=10, units=4, order=4, theta=784.0, input_d=1)
    bad = mutate(x, y)
    with pytest.raises(ValueError, match=message):
        train(config, bad, (x, y), str(tmp_path / "m"), epochs=1, verbose=0)
    assert not (tmp_path / "m").exists()  # nothing written


def test_sequential_training_recurrent(tmp_path, allclose):
    """Backpropagation through time on the fully recurrent cell: finite loss,
    and the trained weights give the same logits in nengo as in NengoDL."""
    from nengo_lmu.training import train

    data = load_psmnist(0)
    x, y = data["train"][0][:200], data["train"][1][:200]
    xv, yv = data["valid"][0][:100], data["valid"][1][:100]
    config = dict(n_classes=10, units=8, order=8, theta=784.0, input_d=1,
                  hidden_neuron_type="Tanh", hidden_to_memory=True,
                  memory_to_memory=True, input_to_hidden=True, hidden_recurrent=True)
    history = train(config, (x, y), (xv, yv), str(tmp_path), epochs=1,
                    method="sequential", clipnorm=1.0, verbose=0)
    assert np.isfinite(history["loss"][0])
    params, _ = load_params(tmp_path / "params.npz")
    assert not np.allclose(params["W_h"], 0)  # the recurrent weights were trained
    clf = build_classifier(config, params, method="sequential")
    logits_dl = predict(clf, xv[:2], batch_size=2)
    clf = build_classifier(config, params, method="sequential")
    logits_nengo = predict(clf, xv[:2], backend="nengo")
    assert allclose(logits_nengo, logits_dl, atol=1e-4)


@pytest.mark.parametrize("kind", ["legendre", "oscillators"])
def test_steps_per_element_is_the_same_memory(kind, rng, allclose):
    """K chip steps per element with a memory K times slower end in the same
    state (zero-order hold): the trained weights deploy unchanged."""
    from nengo_lmu.systems import memory_system  # pylint: disable=import-outside-toplevel

    u = rng.uniform(0, 1, size=(3, 50))
    m = memory_system(kind, 50, 8).final_state(u, 1.0)
    for k in (2, 3):
        assert allclose(memory_system(kind, 50 * k, 8).final_state(np.repeat(u, k, axis=1), 1.0),
                        m)


def test_chip_time():
    from nengo_lmu.tasks.psmnist import chip_time  # pylint: disable=import-outside-toplevel

    config = {"theta": 784.0, "order": 16}
    assert chip_time(config, {"seed": 1}) == (config, {"seed": 1}, 1)
    chip, spiking, k = chip_time(config, {"steps_per_element": 3, "hold_steps": 20,
                                          "memory_synapse": 0.1})
    assert k == 3 and chip == {"theta": 3 * 784.0, "order": 16} and config["theta"] == 784.0
    assert spiking == {"hold_steps": 60, "window": 90, "memory_synapse": 0.1}  # chip time
    with pytest.raises(ValueError, match="steps_per_element must be"):
        chip_time(config, {"steps_per_element": 0})


def test_evaluate_loihi_steps_per_element(trained, tmp_path):
    """Two chip steps per element: twice the chip steps, the hold and window
    in chip steps, the same rate model; refused for the exact memory."""
    out, _ = trained
    path = tmp_path / "k2.json"
    assert main(["psmnist", "evaluate", "--model", str(out), "--backend", "loihi",
                 "--memory", "spiking", "--memory-neurons", "5", "--seed", "0",
                 "--steps-per-element", "2", "--n-test", "2", "--batch-size", "2",
                 "--no-progress", "--json", str(path)]) == 0
    k2 = json.loads(path.read_text())
    k1 = evaluate_psmnist(str(out), backend="loihi", memory="spiking", memory_neurons=5,
                          seed=0, n_test=2, batch_size=2, progress_bar=False)
    assert (k1["steps_per_element"], k2["steps_per_element"]) == (1, 2)
    assert k2["steps_per_image"] == 2 * k1["steps_per_image"] == 2 * (784 + 40)
    assert (k2["hold_steps"], k2["window"]) == (80, 60)
    assert k2["rate_accuracy"] == k1["rate_accuracy"]
    with pytest.raises(ValueError, match="steps_per_element > 1 needs memory='spiking'"):
        evaluate_psmnist(str(out), backend="loihi", n_test=2, steps_per_element=2)


def test_finetune_names_moved_to_tasks_finetune():
    """Fine-tuning lives in `nengo_lmu.tasks.finetune`; the old names in
    `nengo_lmu.tasks.psmnist` still work, with a warning."""
    from nengo_lmu.tasks import finetune, psmnist  # pylint: disable=import-outside-toplevel

    for name in ("finetune_psmnist", "FINETUNE", "MEMORY_WEIGHTS", "MEMORY_SIMULATIONS"):
        with pytest.warns(DeprecationWarning, match=f"nengo_lmu.tasks.finetune.{name}"):
            assert getattr(psmnist, name) is getattr(finetune, name)
