"""A trained psMNIST model as a NIR graph (``nengo-lmu export --format nir``).

`export_psmnist` calibrates the model's spiking classifier as ``psmnist
evaluate --backend loihi`` does (`nengo_lmu.tasks.psmnist.N_CALIBRATION`
validation images, the deployment settings of the model directory) and
writes it with `nengo_lmu.nir_graph.to_nir`. A model trained for the exact
readout is refused first (`nengo_lmu.nir_graph.check_exportable_readout`).
"""

from nengo_lmu.data import load_psmnist
from nengo_lmu.model_dir import deployment_settings, load_model
from nengo_lmu.nir_graph import (DISCRETIZATIONS, SYNAPSES, check_exportable_readout, to_nir,
                                 write)
from nengo_lmu.tasks.psmnist import MEMORY_MODES, N_CALIBRATION, check_spiking_settings
from nengo_lmu.validation import check_choice, check_input_dir, check_output_file

#: The seed of the spiking memory's tuning when none is given: an export is
#: a file others run, so the same command writes the same graph.
EXPORT_SEED = 0


def trained_readout(model_dir):
    """The readout scheme a model directory's model was trained for
    (``readout.scheme`` of its ``config.json``; ``"exact"``, ``"hold"`` or
    ``"spiking"``)."""
    model_dir = check_input_dir("model_dir", model_dir, "model directory")
    run_config, _ = load_model(model_dir)
    return str(run_config.get("readout", {}).get("scheme", "exact"))


def psmnist_classifier(model_dir, memory="exact", source="auto", **spiking):
    """The calibrated `~nengo_lmu.spiking.SpikingLMUClassifier` of a model
    directory and the psMNIST data (`nengo_lmu.data.load_psmnist`) it was
    calibrated on: ``(classifier, data)``."""
    from nengo_lmu.spiking import SpikingLMUClassifier  # pylint: disable=import-outside-toplevel

    check_choice("memory", memory, MEMORY_MODES)
    model_dir = check_input_dir("model_dir", model_dir, "model directory")
    run_config, params = load_model(model_dir)
    spiking.setdefault("seed", EXPORT_SEED)
    settings = check_spiking_settings(run_config["model"], memory,
                                      deployment_settings(run_config, memory, **spiking))
    if memory == "spiking" and settings.get("memory_copies", 1) > 1:
        raise ValueError(f"memory_copies = {settings['memory_copies']}: the NIR graph holds "
                         "one copy of the spiking memory; export with memory_copies=1 or "
                         "memory='exact'")
    data = load_psmnist(run_config.get("permutation_seed", 0), source=source)
    clf = SpikingLMUClassifier(run_config["model"], params, data["valid"][0][:N_CALIBRATION],
                               memory=memory, **settings)
    return clf, data


def export_psmnist(model_dir, out, memory="exact", discretization=None, synapses="li",
                   source="auto", **spiking):
    """Write a trained psMNIST model's spiking classifier to ``out`` as a NIR graph.

    Parameters
    ----------
    model_dir : path
        A model directory (``config.json`` and ``params.npz``).
    out : path
        The ``.nir`` file (HDF5, `nir.write`), written atomically.
    memory : {"exact", "spiking"}
    discretization : {"zoh", "euler"}, optional
    synapses : {"li", "cubalif"}
        See `nengo_lmu.nir_graph.to_nir` (default discretization: ``"zoh"``
        for the exact memory, ``"euler"`` for the spiking memory, the only
        one it is written in).
    source : str
        Where MNIST comes from (`nengo_lmu.data.load_psmnist`).
    **spiking
        `~nengo_lmu.spiking.SpikingLMUClassifier` settings (``max_rate``,
        ``hold_steps``, ``window``, ``memory_neurons``, ``memory_max_rate``,
        ``seed``; default seed `EXPORT_SEED`).

    Returns
    -------
    nir.NIRGraph
        The graph written, with the MNIST source in its metadata.

    Raises
    ------
    ValueError
        Before calibrating or writing anything: the model was trained for
        the exact readout (its graph would read a moving memory), or the
        choices do not go together (`nengo_lmu.nir_graph.to_nir`).
    """
    check_output_file("out", out)
    check_choice("memory", memory, MEMORY_MODES)
    if discretization is None:
        discretization = "zoh" if memory == "exact" else "euler"
    check_choice("discretization", discretization, DISCRETIZATIONS)
    check_choice("synapses", synapses, SYNAPSES)
    if synapses == "cubalif" and memory != "spiking":
        raise ValueError('synapses="cubalif" needs memory="spiking" (the exact memory is a '
                         "linear system, which only I or LI nodes express)")
    if memory == "spiking" and discretization != "euler":
        raise ValueError(f'discretization={discretization!r} with memory="spiking": the spiking '
                         'memory is written only as "euler" (see nengo_lmu.to_nir)')
    readout = check_exportable_readout(trained_readout(model_dir))
    clf, data = psmnist_classifier(model_dir, memory, source, **spiking)
    graph = to_nir(clf, discretization=discretization, synapses=synapses,
                   trained_readout=readout)
    graph.metadata["data_source"] = str(data.source)
    write(graph, out)
    return graph
