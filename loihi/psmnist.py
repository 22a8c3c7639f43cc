"""psMNIST inference with a trained LMU, spiking, on Loihi.

    python loihi/psmnist.py --model DIR [--n-test 500] [--memory exact|spiking]
                            [--memory-neurons 30] [--memory-max-rate 700] [--json PATH]

Loads a model trained by ``nengo-lmu psmnist train --out DIR`` (the parallel
path's feed-forward LMU, ReLU or LIF hidden layer), builds its spiking
version (`nengo_lmu.spiking.SpikingLMUClassifier`: hidden neurons spiking,
rates scaled on validation images, the memory exact off chip or spiking on
chip) and classifies the first N test images on nengo_loihi: on a Loihi board
when NxSDK and a board are present, on the bit-accurate emulator otherwise
(printed first). Prints the accuracy next to the rate model's on the same
images, the cost per image, the chip resources and what weight quantization
costs. Equivalent to ``nengo-lmu loihi-report --model DIR`` followed by
``nengo-lmu psmnist evaluate --model DIR --backend loihi``.
"""

import argparse
import os
import sys

# Let the script run from a checkout without installing nengo_lmu.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nengo_lmu.io import write_json  # noqa: E402
from nengo_lmu.loihi import format_quantization_report, format_resource_report  # noqa: E402
from nengo_lmu.psmnist import evaluate_psmnist, loihi_report  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, metavar="DIR", help="model directory")
    parser.add_argument("--n-test", type=int, default=500, help="first N test images")
    parser.add_argument("--memory", choices=("exact", "spiking"), default="exact")
    parser.add_argument("--memory-neurons", type=int, default=30,
                        help="neurons per memory dimension with --memory spiking")
    parser.add_argument("--memory-max-rate", type=float, default=700.0,
                        help="highest rate (Hz) of the memory neurons with --memory spiking")
    parser.add_argument("--json", metavar="PATH", help="also write the result as JSON")
    args = parser.parse_args(argv)

    from nengo_loihi.hardware import HAS_NXSDK  # pylint: disable=import-outside-toplevel

    print("running on", "a Loihi board (NxSDK)" if HAS_NXSDK else "the Loihi emulator")
    spiking = {"memory_neurons": args.memory_neurons,
               "memory_max_rate": args.memory_max_rate} if args.memory == "spiking" else {}
    report = loihi_report(args.model, memory=args.memory, **spiking)
    print(format_resource_report(report))
    print(format_quantization_report(report["quantization"]))
    result = evaluate_psmnist(args.model, backend="loihi", n_test=args.n_test,
                              memory=args.memory, **spiking)
    print(f"\naccuracy on Loihi {100 * result['accuracy']:.2f} %, rate model "
          f"{100 * result['rate_accuracy']:.2f} % ({result['n_test']} images, "
          f"{result['steps_per_image']} steps and {result['s_per_image']:.2f} s per image)")
    if args.json:
        result["resources"] = {k: report[k] for k in ("cores", "neurons", "synapses",
                                                      "fits_one_chip")}
        write_json(args.json, result)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
