"""psMNIST inference with a trained LMU, spiking, on Loihi.

    python examples/loihi/psmnist.py --model DIR [--n-test 500] [--memory exact|spiking]
        [--memory-neurons 30] [--memory-max-rate 700] [--max-rate 250]
        [--hold-steps 40] [--window 30] [--seed S] [--json PATH]

Loads a model trained by ``nengo-lmu psmnist train --out DIR`` (the parallel
path's feed-forward LMU, ReLU or LIF hidden layer) or fine-tuned by
``nengo-lmu psmnist finetune``, builds its spiking version
(`nengo_lmu.spiking.SpikingLMUClassifier`: hidden neurons spiking, rates
scaled on validation images, the memory exact off chip or spiking on chip)
and classifies the first N test images on nengo_loihi: on a Loihi board
when NxSDK and a board are present, on the bit-accurate emulator otherwise
(printed first). Prints the settings it deploys with, the chip resources,
what weight quantization costs, and the accuracy next to the rate model's on
the same images and the cost per image.

The settings come, in this order, from the flags, from the model's
``config.json`` (the readout it was trained for; for a fine-tuned model the
memory it was tuned against and its hidden rate:
`nengo_lmu.model_dir.deployment_settings`) and from the package's defaults
(`nengo_lmu.model_dir.SpikingSettings`, `nengo_lmu.readout.ReadoutScheme`),
exactly as for the command line, so this script is equivalent to
``nengo-lmu loihi-report --model DIR`` followed by
``nengo-lmu psmnist evaluate --model DIR --backend loihi`` with the same
options.
"""

import argparse
import sys

from nengo_lmu.io import write_json
from nengo_lmu.loihi import format_quantization_report, format_resource_report
from nengo_lmu.model_dir import SpikingSettings, deployment_settings, load_model
from nengo_lmu.readout import ReadoutScheme
from nengo_lmu.tasks.psmnist import evaluate_psmnist, loihi_report

#: Settings of the hidden layer and the readout, for either memory.
READOUT_FLAGS = ("max_rate", "hold_steps", "window", "seed")
#: Settings of the memory on chip (``--memory spiking`` only).
MEMORY_FLAGS = ("memory_neurons", "memory_max_rate")


def _positive(kind):
    def convert(text):
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return convert


def _non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def parse_args(argv=None):
    spiking, readout = SpikingSettings, ReadoutScheme  # the defaults are class attributes
    from_model = "the model's config.json, else"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, metavar="DIR", help="model directory")
    parser.add_argument("--n-test", type=_positive(int), default=500,
                        help="first N test images (default: %(default)s)")
    parser.add_argument("--memory", choices=("exact", "spiking"), default="exact",
                        help="the memory exact off chip, or spiking on chip "
                        "(default: %(default)s)")
    parser.add_argument("--memory-neurons", type=_positive(int), default=None,
                        help="with --memory spiking: neurons per memory dimension "
                        f"(default: {from_model} {spiking.memory_neurons})")
    parser.add_argument("--memory-max-rate", type=_positive(float), default=None,
                        help="with --memory spiking: highest rate in Hz of the memory's "
                        f"neurons (default: {from_model} {spiking.memory_max_rate:g})")
    parser.add_argument("--max-rate", type=_positive(float), default=None,
                        help="99th-percentile rate in Hz of the hidden neurons "
                        f"(default: {from_model} {spiking.max_rate:g})")
    parser.add_argument("--hold-steps", type=_positive(int), default=None,
                        help="steps after each image that the readout waits "
                        f"(default: {from_model} {readout.hold_steps})")
    parser.add_argument("--window", type=_positive(int), default=None,
                        help="last steps of the hold whose spikes are averaged "
                        f"(default: {from_model} {readout.window})")
    parser.add_argument("--seed", type=_non_negative_int, default=None,
                        help="seed of the spiking network's neuron tuning (default: "
                        f"{from_model} drawn anew)")
    parser.add_argument("--json", metavar="PATH", help="also write the result as JSON")
    args = parser.parse_args(argv)
    if args.memory == "exact":
        given = [f"--{k.replace('_', '-')}" for k in MEMORY_FLAGS
                 if getattr(args, k) is not None]
        if given:
            parser.error(f"{', '.join(given)} {'needs' if len(given) == 1 else 'need'} "
                         "--memory spiking")
    return args


def deployment(args):
    """The `SpikingLMUClassifier` settings to deploy with: the flags, then
    the model's ``config.json``, then `SpikingSettings` and `ReadoutScheme`."""
    flags = READOUT_FLAGS + (MEMORY_FLAGS if args.memory == "spiking" else ())
    given = {k: getattr(args, k) for k in flags if getattr(args, k) is not None}
    run_config, _ = load_model(args.model)  # says what is missing from a bad directory
    settings = deployment_settings(run_config, args.memory, **given)
    defaults = dict(max_rate=SpikingSettings.max_rate, hold_steps=ReadoutScheme.hold_steps,
                    window=ReadoutScheme.window)
    if args.memory == "spiking":
        defaults.update(memory_neurons=SpikingSettings.memory_neurons,
                        memory_max_rate=SpikingSettings.memory_max_rate)
    for key, value in defaults.items():
        settings.setdefault(key, value)
    return settings


def describe(memory, settings):
    """One line saying how the model is deployed."""
    text = (f"hidden neurons at {settings['max_rate']:g} Hz (99th percentile); readout: "
            f"spike rates over the last {settings['window']} of {settings['hold_steps']} "
            "hold steps per image; memory ")
    if memory == "spiking":
        text += (f"spiking on chip, {settings['memory_neurons']} neurons per dimension "
                 f"at up to {settings['memory_max_rate']:g} Hz")
    else:
        text += "exact, off chip"
    seed = settings.get("seed")
    return text + ("; tuning seed drawn anew" if seed is None else f"; tuning seed {seed}")


def main(argv=None):
    args = parse_args(argv)
    try:
        settings = deployment(args)
    except (FileNotFoundError, ValueError) as e:
        print(f"{sys.argv[0]}: error: {e}", file=sys.stderr)
        return 2
    from nengo_loihi.hardware import HAS_NXSDK  # pylint: disable=import-outside-toplevel

    print("running on", "a Loihi board (NxSDK)" if HAS_NXSDK else "the Loihi emulator")
    print(describe(args.memory, settings))
    report = loihi_report(args.model, memory=args.memory, **settings)
    print(format_resource_report(report))
    print(format_quantization_report(report["quantization"]))
    result = evaluate_psmnist(args.model, backend="loihi", n_test=args.n_test,
                              memory=args.memory, **settings)
    print(f"\naccuracy on Loihi {100 * result['accuracy']:.2f} %, rate model "
          f"{100 * result['rate_accuracy']:.2f} % ({result['n_test']} images, "
          f"{result['steps_per_image']} steps and {result['s_per_image']:.2f} s per image)")
    if "rate_stream_accuracy" in result:
        print(f"rate model on the exact memory read as the chip reads it "
              f"{100 * result['rate_stream_accuracy']:.2f} %")
    if args.json:
        result["resources"] = {k: report[k] for k in ("cores", "neurons", "synapses",
                                                      "fits_one_chip")}
        write_json(args.json, result)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
