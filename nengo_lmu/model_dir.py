"""The model directory: what a trained LMU is on disk, and how to deploy it.

A model directory holds

- ``config.json``: the model (``model``: the `LMUClassifier` arguments),
  the training settings, the readout scheme it was trained for
  (``readout``, see `nengo_lmu.readout.readout_settings`), the task's data
  settings and, for a model fine-tuned against a spiking memory, that
  memory's settings (``readout.spiking_memory``); `check_run_config` is its
  schema;
- ``params.npz``: the best weights by validation accuracy (`save_params`,
  plain ``.npz`` loaded with ``allow_pickle=False``);
- ``checkpoint.npz``: the weights and history after the last finished epoch
  (training resumes from it);
- ``history.json`` and ``training.png``.

Every reader here (`read_config`, `load_params`, `load_model`,
`load_checkpoint`, `resume`) checks what it reads and refuses a file that is
truncated, corrupt, edited or not what nengo-lmu writes with a
`ModelDirError` (a `ValueError`) whose message names the file and the
problem; a missing file or directory is a `FileNotFoundError`.

`SpikingSettings` is the one set of defaults for deploying a model as a
spiking network (`nengo_lmu.spiking.SpikingLMUClassifier`, the CLI, the
scripts); `deployment_settings` completes them with what a model's
``config.json`` implies.

Networks-and-models layer: numpy, the base modules (the checked reading of
an ``.npz`` is `nengo_lmu.io.read_npz`, the fields of the schema are
`nengo_lmu.schema`'s), the checks of the weights of `nengo_lmu.lmu`
(`check_params`) and the names of `nengo_lmu.lmu`, `nengo_lmu.neurons`,
`nengo_lmu.readout` and `nengo_lmu.systems` that the schema refers to; no
backend.
"""

import dataclasses
import json
import os
import warnings

import numpy as np

from nengo_lmu.io import (
    CorruptFileError,
    check_file,
    read_json_array,
    read_npz,
    remove_stale_temp_files,
    save_npz,
    write_json,
)
from nengo_lmu.lmu import check_params, check_weight_array
from nengo_lmu.neurons import NEURON_TYPES
from nengo_lmu.readout import READOUT_LOSSES, READOUTS, ReadoutScheme
from nengo_lmu.schema import (
    BOOLEAN,
    STRING,
    check_object,
    choice,
    field,
    integer,
    nullable,
    real,
    shown,
)
from nengo_lmu.systems import DISCRETIZERS, MEMORY_KINDS
from nengo_lmu.validation import SEED_LIMIT, check_integer, check_positive, is_finite_real

CONFIG = "config.json"
PARAMS = "params.npz"
CHECKPOINT = "checkpoint.npz"
HISTORY = "history.json"

#: Training methods (`nengo_lmu.training.train`), as ``config.json`` records them.
METHODS = ("parallel", "sequential")

#: Seeds numpy accepts: ``0 <= seed <= SEED_MAX`` (`nengo_lmu.validation.SEED_LIMIT`).
SEED_MAX = SEED_LIMIT - 1


class ModelDirError(CorruptFileError):
    """A file of a model directory that cannot be used: truncated, corrupt,
    edited, or not what nengo-lmu writes. The message names the file and the
    problem (a `nengo_lmu.io.CorruptFileError`, a `ValueError`)."""


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
    memory_copies : int
        Independent copies of the spiking memory, averaged (the memory's
        ``copies``): ``memory_copies * memory_neurons`` neurons per state
        variable in one ensemble, on one core on Loihi. 1 by default.
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
    memory_copies: int = 1
    memory_max_rate: float = 700.0
    memory_synapse: float = 0.1
    hidden_synapse: float = 0.005
    dt: float = 0.001

    def __post_init__(self):
        for name in ("max_rate", "memory_max_rate", "memory_synapse", "hidden_synapse", "dt"):
            object.__setattr__(self, name, check_positive(name, getattr(self, name)))
        for name in ("memory_neurons", "memory_copies"):
            object.__setattr__(self, name, check_integer(name, getattr(self, name)))
        if self.max_rate * self.dt > 1:
            raise ValueError(f"max_rate must be below 1/dt = {1 / self.dt:g} Hz (one spike "
                             f"per step), got {self.max_rate}")
        if self.memory_max_rate * self.dt > 1:
            raise ValueError(f"memory_max_rate must be at most 1/dt = {1 / self.dt:g} Hz "
                             f"(one spike per step), got {self.memory_max_rate}")

    #: Settings of the memory a classifier is fine-tuned against: deploying
    #: it with other values of these warns (`deployment_settings`).
    MEMORY_KEYS = ("memory_neurons", "memory_copies", "memory_max_rate", "memory_synapse",
                   "hidden_synapse")

    def to_json(self):
        """The settings as a JSON-able dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data):
        """Settings from a dict; keys that are not fields are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


# --- the schema of config.json ------------------------------------------------
#
# Each field is a check ``check(name, value)`` (`nengo_lmu.schema`) that
# raises a `ValueError` naming the field (its path in config.json, e.g.
# ``model.units``), what it accepts and the value found.

_SEED = integer(0, SEED_MAX)

#: ``model``'s keys: `LMUClassifier`'s ``n_classes`` and the `nengo_lmu.lmu.LMU`
#: arguments a config records (``hidden_neuron_type`` by name; not ``params``,
#: ``closed_form``, ``label``, ``seed``, ``add_to_container``, which
#: `nengo_lmu.lmu.build_classifier` sets).
MODEL_REQUIRED = {
    "n_classes": integer(1),
    "units": integer(1),
    "order": integer(1),
    "theta": real(0.0),
    "input_d": integer(1),
}
MODEL_OPTIONAL = {
    "memory_d": integer(1),
    "hidden_neuron_type": choice(NEURON_TYPES),
    "hidden_to_memory": BOOLEAN,
    "memory_to_memory": BOOLEAN,
    "input_to_hidden": BOOLEAN,
    "hidden_recurrent": BOOLEAN,
    "discretizer": choice(DISCRETIZERS),
    "memory_kind": choice(MEMORY_KINDS),
}


def check_model_config(model, name="model"):
    """Check a model config (``config.json``'s ``model``, the ``config`` of
    `nengo_lmu.training.train`): a `ValueError` naming the key, what it
    accepts and the value found, or one listing the known keys."""
    return check_object(name, model, MODEL_REQUIRED, MODEL_OPTIONAL)


#: ``readout.spiking_memory``'s keys: the `SpikingSettings` of the memory a
#: classifier was fine-tuned against, its ``seed`` and the weights it was
#: simulated with (`nengo_lmu.tasks.finetune.finetune_psmnist`);
#: `deployment_settings` reads the required ones.
SPIKING_MEMORY_REQUIRED = {
    "memory_neurons": integer(1),
    "memory_max_rate": real(0.0),
    "memory_synapse": real(0.0),
    "hidden_synapse": real(0.0),
    "seed": _SEED,
    "max_rate": real(0.0),
}
SPIKING_MEMORY_OPTIONAL = {"dt": real(0.0), "weights": STRING, "steps_per_element": integer(1),
                           "memory_copies": integer(1),
                           # nengo_lmu.memory_simulation.DTYPES
                           "dtype": choice(("float64", "float32")), "from_rest": BOOLEAN,
                           # nengo_lmu.tasks.finetune.MEMORY_SIMULATIONS
                           "simulation": choice(("nengo", "emulator"))}


def check_spiking_memory(settings, name="spiking_memory"):
    """Check the settings of a fine-tuning's spiking memory (``readout.spiking_memory``)."""
    check_object(name, settings, SPIKING_MEMORY_REQUIRED, SPIKING_MEMORY_OPTIONAL)
    try:
        SpikingSettings.from_json(settings)
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None
    return settings


def _readout_fields(scheme):
    """``(required, optional)`` keys of a ``readout`` entry of ``scheme``, as
    `nengo_lmu.readout.readout_settings` records it: the keys deployment reads
    are required, the training's own (``memory_noise``, ``readout_draws``,
    ``loss``, absent from configs of early 0.2 development) optional."""
    required = {"scheme": choice(READOUTS)}
    if scheme == "exact":
        return required, {}
    required.update(hold_steps=integer(1), window=integer(1))
    if scheme == "spiking":
        required["spiking_memory"] = lambda name, value: check_spiking_memory(value, name)
    optional = {"memory_noise": real(0.0, strict=False), "readout_draws": integer(1),
                "loss": choice(READOUT_LOSSES)}
    return required, optional


def check_readout_config(readout, name="readout"):
    """Check a ``readout`` entry (`nengo_lmu.readout.readout_settings`): its
    keys per ``scheme``, their types and ``window <= hold_steps``."""
    scheme = readout.get("scheme") if isinstance(readout, dict) else None
    if isinstance(readout, dict) and "scheme" in readout:
        choice(READOUTS)(f"{name}.scheme", scheme)
    check_object(name, readout, *_readout_fields(scheme),
                 known_label=f"keys of scheme {scheme!r}" if scheme else "known keys")
    if readout["scheme"] != "exact":
        try:
            ReadoutScheme.from_json(readout)
        except ValueError as e:
            raise ValueError(f"{name}: {e}") from None
    return readout


def _check_data_file(name, value):
    if value is not None:
        check_object(name, value, {"path": STRING, "sha256": STRING})


def check_augment(name, value):
    """An augmentation's settings (``config.json``'s ``augment``, `train
    <nengo_lmu.training.train>`'s ``augment.settings``): ``translate``, the
    largest move of `nengo_lmu.data.TranslateAugmentation` in pixels (1..27),
    and ``permutation_seed``."""
    check_object(name, value, {"translate": integer(1, 27), "permutation_seed": _SEED})


#: The training settings `nengo_lmu.training.train` records (besides ``model``
#: and ``readout``).
RUN_SETTINGS = {
    "method": choice(METHODS),
    "batch_size": integer(1),
    "learning_rate": real(0.0),
    "weight_decay": real(0.0, strict=False),
    "clipnorm": nullable(real(0.0)),
    "epochs": integer(1),
    "decay_epochs": nullable(integer(1)),
    "seed": _SEED,
    "augment": check_augment,
}

#: The task's metadata keys (``meta`` of `nengo_lmu.training.train`).
META_KEYS = {
    "task": STRING,
    "permutation_seed": _SEED,
    "data_source": STRING,
    "n_train": integer(1),
    "n_valid": integer(1),
    "n_synthetic": integer(0),
    "data_file": _check_data_file,
    "base_model": STRING,
}


def check_setting(name, value):
    """Check one training setting of `RUN_SETTINGS` (a `ValueError` naming
    ``name``, the accepted values and ``value``)."""
    RUN_SETTINGS[name](name, value)


def check_meta(meta, name="meta"):
    """Check a run's task metadata (`META_KEYS`), e.g. ``train``'s ``meta``."""
    return check_object(name, meta, {}, META_KEYS)


def check_run_config(config):
    """Check the contents of a ``config.json`` against its schema.

    Required: ``model`` (`check_model_config`) and ``readout``
    (`check_readout_config`); allowed besides: the training settings
    `RUN_SETTINGS` and the task's metadata `META_KEYS`, each of its type.
    Raises a `ValueError` naming the key (``model.units``,
    ``readout.spiking_memory.seed``, ...) and the problem; an unknown key is
    refused with the list of known ones.
    """
    if not isinstance(config, dict):
        raise ValueError(f"it must hold a JSON object (the run's settings), got "
                         f"{type(config).__name__} {shown(config)}")
    check_object(
        "", config,
        {"model": lambda name, value: check_model_config(value, name),
         "readout": lambda name, value: check_readout_config(value, name)},
        {**RUN_SETTINGS, **META_KEYS})
    return config


# --- the files ----------------------------------------------------------------


def _check_arrays(path, arrays, prefix=""):
    """Refuse (`ModelDirError` naming ``path``) an array read from a model
    directory's ``.npz`` that is not finite and real-valued."""
    for name, value in arrays.items():
        try:
            check_weight_array(f"array {prefix + name!r}", value)
        except ValueError as e:
            raise ModelDirError(f"{path}: {e}") from None


def save_params(path, params, **meta):
    """Save a params dict (and JSON-able metadata) as ``.npz``, atomically and
    byte for byte reproducibly (`nengo_lmu.io.save_npz`)."""
    arrays = {f"param/{k}": np.asarray(v) for k, v in params.items()}
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    save_npz(path, arrays)


def load_params(path):
    """Load ``(params, meta)`` saved by `save_params`, without pickle.

    Raises `FileNotFoundError` if there is no file, `ModelDirError` if it is
    not an ``.npz`` archive of `save_params` (truncated, a single ``.npy``,
    a directory, text, other arrays than ``param/*`` and ``meta``) or a
    weight is not a finite real array.
    """
    arrays = read_npz(path, "params file", "nengo_lmu.model_dir.save_params", ModelDirError)
    other = [k for k in arrays if k != "meta" and not k.startswith("param/")]
    if other:
        raise ModelDirError(f"{path} holds arrays {', '.join(map(repr, other))}, not the "
                            "'param/NAME' arrays and 'meta' of nengo_lmu.model_dir.save_params")
    params = {k[len("param/"):]: v for k, v in arrays.items() if k.startswith("param/")}
    _check_arrays(path, params)
    meta = read_json_array(path, arrays, "meta", ModelDirError) if "meta" in arrays else {}
    return params, meta


def _reject_constant(token):
    raise ValueError(f"{token} is not a JSON value (strict JSON has no NaN or infinity)")


def read_config(model_dir):
    """The contents of ``model_dir/config.json``, checked (`check_run_config`).

    Raises `FileNotFoundError` if there is none, `ModelDirError` naming the
    file and the problem if it is not strict JSON or not a config nengo-lmu
    writes.
    """
    path = os.path.join(model_dir, CONFIG)
    check_file(path, CONFIG, ModelDirError)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise ModelDirError(f"{path} is not UTF-8 text (not a {CONFIG})") from None
    except OSError as e:
        raise ModelDirError(f"{path} cannot be read: {e.strerror or e}") from None
    if not text.strip():
        raise ModelDirError(f"{path} is empty")
    try:
        config = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise ModelDirError(f"{path} is not valid JSON: {e.msg} at line {e.lineno}, "
                            f"column {e.colno}") from None
    except ValueError as e:
        raise ModelDirError(f"{path} is not strict JSON: {e}") from None
    try:
        return check_run_config(config)
    except ValueError as e:
        raise ModelDirError(f"{path}: {e}") from None


def load_model(model_dir):
    """``(config.json contents, params)`` of a trained model directory, both
    checked: the config against its schema (`read_config`), the weights
    against the config's model (`nengo_lmu.lmu.check_params`: each weight
    it uses, of its shape, finite)."""
    if not os.path.isdir(model_dir):
        raise FileNotFoundError(f"model directory {model_dir} does not exist")
    config_path = os.path.join(model_dir, CONFIG)
    params_path = os.path.join(model_dir, PARAMS)
    if not os.path.exists(config_path) or not os.path.exists(params_path):
        raise FileNotFoundError(
            f"{model_dir} is not a trained model: it needs {CONFIG} and {PARAMS} "
            "(written by `nengo-lmu psmnist train --out DIR`)"
        )
    run_config = read_config(model_dir)
    params, _ = load_params(params_path)
    try:
        check_params(run_config["model"], params)
    except ValueError as e:
        raise ModelDirError(f"{params_path}: {e} (the model of {config_path})") from None
    return run_config, params


def deployment_settings(run_config, memory="spiking", **overrides):
    """The `nengo_lmu.spiking.SpikingLMUClassifier` keyword arguments that
    deploy a model (``run_config`` is its ``config.json``).

    ``overrides`` (the user's choices) come first; the rest is what the
    model implies: the readout it was trained for (``hold_steps``,
    ``window``) and, for a model fine-tuned against a spiking memory
    (``readout.scheme == "spiking"``), that memory's settings, its seed and
    the hidden neurons' ``max_rate``, and, with ``memory="spiking"``, the
    chip steps per element it was simulated at (``steps_per_element``, 1 if
    not recorded). Anything not given either way takes
    the defaults of `SpikingSettings` and `nengo_lmu.readout.ReadoutScheme`
    in the classifier. Warns when ``overrides`` ask a fine-tuned model's
    memory for other neurons, synapses or chip steps per element than it
    was tuned on. Another seed does not warn (at order 16 the fine-tuning
    learned the distortion of Loihi's neurons, which memories of any seed
    share; at order 64 and K = 4 it did not carry over to another seed on
    the emulator: see the README).
    """
    settings = dict(overrides)
    trained = run_config["readout"]
    if trained["scheme"] != "exact":
        settings.setdefault("hold_steps", trained["hold_steps"])
        settings.setdefault("window", trained["window"])
    if trained["scheme"] == "spiking":
        tuned = dict(trained["spiking_memory"])
        tuned.setdefault("steps_per_element", 1)  # before it was recorded: K = 1
        tuned.setdefault("memory_copies", 1)  # recorded only when > 1
        keys = SpikingSettings.MEMORY_KEYS + ("steps_per_element",)
        differ = [k for k in keys if k in settings and settings[k] != tuned[k]]
        if memory == "spiking" and differ:
            warnings.warn(
                "this classifier was fine-tuned against a spiking memory with "
                + ", ".join(f"{k}={tuned[k]}" for k in differ) + ", not "
                + ", ".join(f"{k}={settings[k]}" for k in differ)
                + "; it may read this memory less well"
            )
        for k in (*SpikingSettings.MEMORY_KEYS, "seed", "max_rate"):
            settings.setdefault(k, tuned[k])
        if memory == "spiking":  # the exact memory runs one step per element
            settings.setdefault("steps_per_element", tuned["steps_per_element"])
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


def _check_history(history, name="history"):
    """Check a training history (`empty_history` after at least one epoch)."""
    if not isinstance(history, dict):
        raise ValueError(f"{name} must be a JSON object, got {type(history).__name__}")
    keys = ("epoch", "loss", "val_accuracy", "epoch_s", "best")
    unknown = [k for k in history if k not in keys]
    missing = [k for k in keys if k not in history]
    if unknown or missing:
        raise ValueError(f"{name} must have the keys {', '.join(keys)}"
                         + (f"; it lacks {', '.join(map(repr, missing))}" if missing else "")
                         + (f"; unknown: {', '.join(map(repr, unknown))}" if unknown else ""))
    lists = {k: history[k] for k in keys[:4]}
    for key, values in lists.items():
        if not isinstance(values, list):
            raise ValueError(f"{name}.{key} must be a list, got {type(values).__name__}")
    n = len(history["epoch"])
    if n == 0 or any(len(v) != n for v in lists.values()):
        raise ValueError(f"{name} must list at least one epoch, with as many entries in "
                         "loss, val_accuracy and epoch_s as in epoch, got lengths "
                         + ", ".join(f"{k} {len(v)}" for k, v in lists.items()))
    if history["epoch"] != list(range(1, n + 1)):
        raise ValueError(f"{name}.epoch must be 1..{n}, got {shown(history['epoch'])}")
    for key, check in (("loss", field("a finite real number", is_finite_real)),
                       ("val_accuracy", field("a real number in 0..1", lambda v: (
                           is_finite_real(v) and 0 <= v <= 1))),
                       ("epoch_s", real(0.0, strict=False))):
        for i, value in enumerate(history[key]):
            check(f"{name}.{key}[{i}]", value)
    check_object(f"{name}.best", history["best"],
                 {"epoch": integer(1, n), "val_accuracy": real(0.0, strict=False)})
    return history


def load_checkpoint(path):
    """The `TrainingState` saved by `save_checkpoint`, without pickle.

    Raises `FileNotFoundError` if there is no file, `ModelDirError` naming it
    if it is not a checkpoint of `save_checkpoint` (truncated, corrupt, other
    arrays, weights or optimizer variables not finite, a history that is not
    one of finished epochs with finite losses).
    """
    arrays = read_npz(path, "checkpoint", "nengo_lmu.model_dir.save_checkpoint", ModelDirError)
    part = {"param": {}, "best": {}, "optimizer": {}}
    other = []
    for key, value in arrays.items():
        kind, _, name = key.partition("/")
        if kind in part and name:
            part[kind][name] = value
        elif key != "meta":
            other.append(key)
    if other:
        raise ModelDirError(f"{path} holds arrays {', '.join(map(repr, other))}, not those "
                            "of a checkpoint (param/*, best/*, optimizer/*, meta)")
    if "meta" not in arrays:
        raise ModelDirError(f"{path} lacks its 'meta' (the history): not a checkpoint")
    if not part["param"]:
        raise ModelDirError(f"{path} holds no weights (param/*): not a checkpoint")
    if any(not k.isdigit() for k in part["optimizer"]):
        raise ModelDirError(f"{path}: optimizer variables must be named optimizer/NNNN, got "
                            + ", ".join(sorted(part["optimizer"])))
    for kind, values in part.items():
        _check_arrays(path, values, prefix=f"{kind}/")
    meta = read_json_array(path, arrays, "meta", ModelDirError)
    if "history" not in meta:
        raise ModelDirError(f"{path}: its meta lacks the 'history': not a checkpoint")
    try:
        _check_history(meta["history"])
    except ValueError as e:
        raise ModelDirError(f"{path}: {e}") from None
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
    (they may be one epoch behind it after a kill). A ``config.json`` or
    checkpoint that cannot be read raises `ModelDirError` (`read_config`,
    `load_checkpoint`).
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
