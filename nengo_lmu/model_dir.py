"""The model directory: what a trained LMU is on disk, and how to deploy it.

A model directory holds

- ``config.json``: the model (``model``: the `LMUClassifier` arguments),
  the training settings, the readout scheme it was trained for
  (``readout``, see `nengo_lmu.readout.readout_settings`), the task's data
  settings and, for a model fine-tuned against a spiking memory, that
  memory's settings (``readout.spiking_memory``);
- ``params.npz``: the best weights by validation accuracy (`save_params`,
  plain ``.npz`` loaded with ``allow_pickle=False``);
- ``checkpoint.npz``: the weights and history after the last finished epoch
  (training resumes from it);
- ``history.json`` and ``training.png``.

`SpikingSettings` is the one set of defaults for deploying a model as a
spiking network (`nengo_lmu.spiking.SpikingLMUClassifier`, the CLI, the
scripts); `deployment_settings` completes them with what a model's
``config.json`` implies.

Base layer: numpy and the package's base modules only.
"""

import dataclasses
import json
import os
import warnings

import numpy as np

from nengo_lmu.io import remove_stale_temp_files, save_npz, write_json
from nengo_lmu.validation import check_integer, check_positive

CONFIG = "config.json"
PARAMS = "params.npz"
CHECKPOINT = "checkpoint.npz"
HISTORY = "history.json"


@dataclasses.dataclass(frozen=True)
class SpikingSettings:
    """How a trained classifier runs as a spiking network (one set of defaults).

    Parameters
    ----------
    max_rate : float
        Rate (Hz) of the 99th percentile of the active hidden neurons on the
        calibration data, for rectified-linear types (below ``1 / dt``).
    memory_neurons : int
        Neurons per memory state variable with the memory on chip (the
        memory's ``n_neurons``). 30 is what fits one chip at order 16.
    memory_max_rate : float
        Highest rate (Hz) of the spiking memory's neurons; their maximum
        rates are drawn from ``[0.8, 1] * memory_max_rate`` (at most
        ``1 / dt``).
    memory_synapse : float
        Principle-3 lowpass time constant of the spiking memory (s).
    hidden_synapse : float
        Synapse from the spiking memory to the hidden layer (s).
    dt : float
        Simulator step (s); one sequence element per step.
    """

    max_rate: float = 250.0
    memory_neurons: int = 30
    memory_max_rate: float = 700.0
    memory_synapse: float = 0.1
    hidden_synapse: float = 0.005
    dt: float = 0.001

    def __post_init__(self):
        for name in ("max_rate", "memory_max_rate", "memory_synapse", "hidden_synapse", "dt"):
            object.__setattr__(self, name, check_positive(name, getattr(self, name)))
        object.__setattr__(self, "memory_neurons",
                           check_integer("memory_neurons", self.memory_neurons))
        if self.max_rate * self.dt > 1:
            raise ValueError(f"max_rate must be below 1/dt = {1 / self.dt:g} Hz (one spike "
                             f"per step), got {self.max_rate}")
        if self.memory_max_rate * self.dt > 1:
            raise ValueError(f"memory_max_rate must be at most 1/dt = {1 / self.dt:g} Hz "
                             f"(one spike per step), got {self.memory_max_rate}")

    #: Settings of the memory a classifier is fine-tuned against: deploying
    #: it with other values of these warns (`deployment_settings`).
    MEMORY_KEYS = ("memory_neurons", "memory_max_rate", "memory_synapse", "hidden_synapse")

    def to_json(self):
        """The settings as a JSON-able dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data):
        """Settings from a dict; keys that are not fields are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def save_params(path, params, **meta):
    """Save a params dict (and JSON-able metadata) as ``.npz``, atomically and
    byte for byte reproducibly (`nengo_lmu.io.save_npz`)."""
    arrays = {f"param/{k}": np.asarray(v) for k, v in params.items()}
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    save_npz(path, arrays)


def load_params(path):
    """Load ``(params, meta)`` saved by `save_params`, without pickle."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no params file at {path}")
    with np.load(path, allow_pickle=False) as data:
        params = {k[len("param/"):]: data[k] for k in data.files if k.startswith("param/")}
        meta = json.loads(str(data["meta"])) if "meta" in data.files else {}
    return params, meta


def read_config(model_dir):
    """The contents of ``model_dir/config.json``."""
    with open(os.path.join(model_dir, CONFIG), encoding="utf-8") as f:
        return json.load(f)


def load_model(model_dir):
    """``(config.json contents, params)`` of a trained model directory."""
    if not os.path.isdir(model_dir):
        raise FileNotFoundError(f"model directory {model_dir} does not exist")
    config_path = os.path.join(model_dir, CONFIG)
    params_path = os.path.join(model_dir, PARAMS)
    if not os.path.exists(config_path) or not os.path.exists(params_path):
        raise FileNotFoundError(
            f"{model_dir} is not a trained model: it needs {CONFIG} and {PARAMS} "
            "(written by `nengo-lmu psmnist train --out DIR`)"
        )
    params, _ = load_params(params_path)
    return read_config(model_dir), params


def deployment_settings(run_config, memory="spiking", **overrides):
    """The `nengo_lmu.spiking.SpikingLMUClassifier` keyword arguments that
    deploy a model (``run_config`` is its ``config.json``).

    ``overrides`` (the user's choices) come first; the rest is what the
    model implies: the readout it was trained for (``hold_steps``,
    ``window``) and, for a model fine-tuned against a spiking memory
    (``readout.scheme == "spiking"``), that memory's settings, its seed and
    the hidden neurons' ``max_rate``. Anything not given either way takes
    the defaults of `SpikingSettings` and `nengo_lmu.readout.ReadoutScheme`
    in the classifier. Warns when ``overrides`` ask a fine-tuned model's
    memory for other neurons or synapses than it was tuned on (another seed
    is fine: the fine-tuning learns the distortion of Loihi's neurons, which
    memories of any seed share).
    """
    settings = dict(overrides)
    trained = run_config["readout"]
    if trained["scheme"] != "exact":
        settings.setdefault("hold_steps", trained["hold_steps"])
        settings.setdefault("window", trained["window"])
    if trained["scheme"] == "spiking":
        tuned = trained["spiking_memory"]
        differ = [k for k in SpikingSettings.MEMORY_KEYS
                  if k in settings and settings[k] != tuned[k]]
        if memory == "spiking" and differ:
            warnings.warn(
                "this classifier was fine-tuned against a spiking memory with "
                + ", ".join(f"{k}={tuned[k]}" for k in differ) + ", not "
                + ", ".join(f"{k}={settings[k]}" for k in differ)
                + "; it may read this memory less well"
            )
        for k in (*SpikingSettings.MEMORY_KEYS, "seed", "max_rate"):
            settings.setdefault(k, tuned[k])
    return settings


def empty_history():
    """The training history before the first epoch."""
    return {"epoch": [], "loss": [], "val_accuracy": [], "epoch_s": [], "best": None}


@dataclasses.dataclass
class TrainingState:
    """Everything a training run needs to continue exactly where it stopped:
    the last weights, the best ones, the optimizer's variables (Adam's
    moments and step count, in the optimizer's order) and the history."""

    params: dict
    best_params: dict
    optimizer: list
    history: dict


def save_checkpoint(model_dir, state, config):
    """Commit one finished epoch: ``checkpoint.npz`` holds the whole
    `TrainingState` and is written first, atomically, as the one record of
    the epoch; ``params.npz`` (the best weights) and ``history.json`` are
    views of it written after (`write_views`), and a later `resume` rewrites
    them from the checkpoint, so a kill at any moment leaves a consistent
    model directory."""
    arrays = {f"param/{k}": np.asarray(v) for k, v in state.params.items()}
    arrays.update({f"best/{k}": np.asarray(v) for k, v in state.best_params.items()})
    arrays.update({f"optimizer/{i:04d}": np.asarray(v) for i, v in enumerate(state.optimizer)})
    arrays["meta"] = np.array(json.dumps({"config": config, "history": state.history},
                                         sort_keys=True))
    save_npz(os.path.join(model_dir, CHECKPOINT), arrays)
    write_views(model_dir, state, config)


def write_views(model_dir, state, config):
    """``params.npz`` and ``history.json`` as the checkpoint's state implies."""
    best = state.history["best"]
    save_params(os.path.join(model_dir, PARAMS), state.best_params, config=config,
                epoch=best["epoch"], val_accuracy=best["val_accuracy"])
    write_json(os.path.join(model_dir, HISTORY), state.history)


def load_checkpoint(path):
    """The `TrainingState` saved by `save_checkpoint`, without pickle."""
    with np.load(path, allow_pickle=False) as data:
        part = {"param": {}, "best": {}, "optimizer": {}}
        for key in data.files:
            kind, _, name = key.partition("/")
            if kind in part:
                part[kind][name] = data[key]
        meta = json.loads(str(data["meta"]))
    optimizer = [part["optimizer"][k] for k in sorted(part["optimizer"])]
    return TrainingState(part["param"], part["best"] or part["param"], optimizer,
                         meta["history"])


def settings_differ(previous, current):
    """``"key: old -> new"`` for every setting that differs between two
    ``config.json`` dicts (keys of either)."""
    return [f"{k}: {previous.get(k)!r} -> {current.get(k)!r}"
            for k in sorted(set(previous) | set(current)) if previous.get(k) != current.get(k)]


def resume(model_dir, run_config, log=print):
    """The `TrainingState` to continue training in ``model_dir``, or None.

    Removes the temporary files of writes a killed run left behind. With a
    checkpoint there, refuses (`ValueError` naming each difference) a
    ``run_config`` that differs in any setting from the one it was trained
    with: a resumed run must give the weights an uninterrupted one would;
    then rewrites ``params.npz`` and ``history.json`` from the checkpoint
    (they may be one epoch behind it after a kill).
    """
    os.makedirs(model_dir, exist_ok=True)
    remove_stale_temp_files(model_dir, (CONFIG, PARAMS, CHECKPOINT, HISTORY, "training.png"))
    ckpt_path = os.path.join(model_dir, CHECKPOINT)
    if not (os.path.exists(os.path.join(model_dir, CONFIG)) and os.path.exists(ckpt_path)):
        return None
    differ = settings_differ(read_config(model_dir), run_config)
    if differ:
        raise ValueError(
            f"{model_dir} holds a checkpoint of a run with other settings ("
            + "; ".join(differ) + "): rerun with the same settings to resume it, "
            "or use another --out directory")
    state = load_checkpoint(ckpt_path)
    if not state.optimizer:
        raise ValueError(f"{ckpt_path} holds no optimizer state (written by nengo-lmu 0.1): "
                         "it cannot be resumed exactly; use another --out directory")
    write_views(model_dir, state, run_config["model"])
    log(f"resuming from {ckpt_path} after epoch {state.history['epoch'][-1]}")
    return state
