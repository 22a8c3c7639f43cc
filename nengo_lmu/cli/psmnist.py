"""``nengo-lmu psmnist train|finetune|evaluate``: permuted sequential MNIST."""

from nengo_lmu.cli.common import (
    MAX_SEED,
    add_json,
    add_memory_synapse_arg,
    add_no_progress,
    add_out,
    add_seed,
    add_spiking_args,
    check_json,
    check_model,
    check_out,
    number,
    progress_verbose,
    reject_spiking_args,
    seed_number,
    spiking_kwargs,
)

#: The LMU's recurrent options, each a store-true flag of ``psmnist train``.
RECURRENT_FLAGS = ("hidden_to_memory", "memory_to_memory", "input_to_hidden",
                   "hidden_recurrent")

#: What each LMU option needs: all but ``input_to_hidden`` a recurrent
#: memory or hidden layer, which only the sequential method trains (the
#: parallel path's one-step network reads ``x_T`` into the hidden layer).
RECURRENT_HELP = {
    "hidden_to_memory": "needs --method sequential",
    "memory_to_memory": "needs --method sequential",
    "input_to_hidden": "either method; not with --readout hold",
    "hidden_recurrent": "needs --method sequential",
}

#: ``psmnist train``'s flags for a spiking readout (``--readout hold``).
HOLD_FLAGS = ("readout", "hold_steps", "window", "memory_noise", "readout_draws",
              "readout_loss")


def cmd_psmnist_train(args, parser):
    parallel_ok = not (args.hidden_to_memory or args.memory_to_memory or args.hidden_recurrent)
    if args.method == "parallel" and not parallel_ok:
        parser.error("--hidden-to-memory, --memory-to-memory and --hidden-recurrent "
                     "need --method sequential (the parallel path needs an LTI memory)")
    if args.readout == "hold" and args.method != "parallel":
        parser.error("--readout hold needs --method parallel")
    if args.readout == "hold" and args.input_to_hidden:
        parser.error("--input-to-hidden does not work with --readout hold")
    if args.readout == "hold" and args.translate:
        parser.error("--translate needs --readout exact (the hold readout trains on fixed "
                     "memory states)")
    check_out(args)
    from nengo_lmu.tasks.psmnist import train_psmnist  # pylint: disable=import-outside-toplevel

    history = train_psmnist(
        args.out, epochs=args.epochs, method=args.method, units=args.units,
        order=args.order, permutation_seed=args.permutation_seed,
        neuron_type=args.neuron_type, batch_size=args.batch_size,
        learning_rate="auto" if args.learning_rate is None else args.learning_rate,
        weight_decay=args.weight_decay, n_train=args.n_train, seed=args.seed,
        translate="auto" if args.translate is None else args.translate,
        verbose=progress_verbose(args), memory_kind=args.memory_kind,
        **{key: getattr(args, key) for key in HOLD_FLAGS},
        **{flag: True for flag in RECURRENT_FLAGS if getattr(args, flag)},
    )
    best = history["best"]
    print(f"best validation accuracy {best['val_accuracy'] * 100:.2f} % (epoch {best['epoch']}); "
          f"{history['wall_s']:.0f} s this run; model in {args.out}")
    return 0


def check_spread_args(parser, args, applies, needs):
    """``--workers`` and ``--ray-address``: only where ``applies`` (else the
    error says they need ``needs``), not both, and Ray installed."""
    if (args.workers > 1 or args.ray_address is not None) and not applies:
        parser.error(f"--workers and --ray-address need {needs}")
    if args.workers > 1 and args.ray_address is not None:
        parser.error("--workers and --ray-address exclude each other (with --ray-address "
                     "the cluster's CPUs are the workers)")
    if args.ray_address is not None:
        if not args.ray_address.strip():
            parser.error("--ray-address must be a Ray address (auto, HOST:PORT or "
                         "ray://HOST:PORT), got ''")
        from nengo_lmu.distributed import import_ray  # pylint: disable=import-outside-toplevel

        try:
            import_ray()
        except ImportError as e:
            parser.error(f"--ray-address: {e}")


def cmd_psmnist_finetune(args, parser):
    if args.memory_simulation == "emulator" and not args.from_rest:
        parser.error("--memory-simulation emulator runs every image from rest: add --from-rest")
    if args.memory_simulation == "emulator" and (args.weights != "loihi"
                                                 or args.memory_dtype != "float64"):
        parser.error("--memory-simulation emulator runs the chip's own weights and arithmetic: "
                     "--weights and --memory-dtype do not apply")
    if args.n_synthetic and not args.from_rest:
        parser.error("--n-synthetic synthesises states from the exact memory of images from "
                     "rest: add --from-rest")
    check_spread_args(parser, args, args.memory_simulation == "emulator",
                      "--memory-simulation emulator")
    check_model(args)
    check_out(args)
    from nengo_lmu.tasks.finetune import (  # pylint: disable=import-outside-toplevel
        FINETUNE,
        finetune_psmnist,
    )

    # the classifier's settings given (else the model's readout and SpikingSettings)
    spiking = {k: getattr(args, k) for k in ("hold_steps", "window", "memory_synapse")
               if getattr(args, k) is not None}
    history = finetune_psmnist(
        args.model, args.out, progress_bar=not args.no_progress,
        verbose=progress_verbose(args),
        **{key: getattr(args, key) for key in FINETUNE}, **spiking,
    )
    best = history["best"]
    simulated = ("reading the memory states from " + args.states_cache
                 if history["states_from_cache"] else "simulating the memory")
    print(f"best validation accuracy on the simulated spiking memory "
          f"{best['val_accuracy'] * 100:.2f} % (epoch {best['epoch']}); "
          f"{history['simulate_s']:.0f} s {simulated}, {history['wall_s']:.0f} s "
          f"in all; model in {args.out} (evaluate it with --backend loihi --memory spiking)")
    print(f"validation accuracy with the hidden neurons spiking as on chip (simulated): "
          f"{history['val_spiking_accuracy_before'] * 100:.2f} % before, "
          f"{history['val_spiking_accuracy'] * 100:.2f} % after fine-tuning")
    return 0


def cmd_psmnist_evaluate(args, parser):
    from nengo_lmu.io import write_json  # pylint: disable=import-outside-toplevel
    from nengo_lmu.tasks.psmnist import evaluate_psmnist  # pylint: disable=import-outside-toplevel

    kwargs = {}
    if args.backend == "loihi":
        kwargs = dict(progress_bar=not args.no_progress, **spiking_kwargs(args))
    else:
        reject_spiking_args(parser, args)
        if args.backend == "nengo":
            kwargs = dict(progress_bar=not args.no_progress)
    check_spread_args(parser, args, args.backend == "loihi", "--backend loihi")
    if args.streams and (args.backend != "loihi" or args.batch_size is None
                         or args.workers > 1 or args.ray_address is not None):
        parser.error("--streams needs --backend loihi and --batch-size, without --workers "
                     "or --ray-address (without --batch-size the images already run back "
                     "to back)")
    if args.backend == "loihi":
        kwargs.update(workers=args.workers, ray_address=args.ray_address,
                      streams=args.streams)
    check_model(args)
    check_json(args)
    result = evaluate_psmnist(args.model, backend=args.backend, n_test=args.n_test,
                              batch_size=args.batch_size, start=args.start, **kwargs)
    print(f"MNIST from {result['data_source']} ({(result['data_file'] or {}).get('path')})")
    images = (f"{result['n_test']} images" if not args.start else
              f"test images {args.start}-{args.start + result['n_test'] - 1}")
    print(f"test accuracy {result['accuracy'] * 100:.2f} % on {images} "
          f"({result['backend']}, {result['wall_s']:.0f} s)")
    if args.backend == "loihi":
        _print_loihi_result(result)
    elif "final_state_accuracy" in result:
        print(f"read as trained ({result['training_readout']['scheme']} readout: each image "
              f"from rest, then {result['hold_steps']} zero steps, logits averaged over the "
              f"last {result['window']}); read at the final state m_T instead "
              f"{result['final_state_accuracy'] * 100:.2f} %")
    if "n_chunks" in result:
        where = (f"the Ray cluster at {result['ray_address']} ({result['workers']} CPUs)"
                 if "ray_address" in result else f"{result['workers']} worker processes")
        retried = "" if result["retries"] is None else f", {result['retries']} retried"
        print(f"{result['n_chunks']} chunks of {result['chunk_size']} images on {where}"
              f"{retried}")
    if args.json:
        write_json(args.json, result)
        print(f"wrote {args.json}")
    return 0


def _print_loihi_result(result):
    side = ("back to back" if result["batch_size"] is None
            else f"{result['batch_size']} side by side, each from rest" if result["from_rest"]
            else f"back to back in {result['batch_size']} streams side by side")
    final = ("" if "final_state_accuracy" not in result else
             f" (at the final state m_T, which it was not trained for, "
             f"{result['final_state_accuracy'] * 100:.2f} %)")
    print(f"rate model on the same images, read as trained {result['rate_accuracy'] * 100:.2f} %"
          f"{final}")
    print(f"memory {result['memory']}; {result['steps_per_image']} chip steps and "
          f"{result['s_per_image']:.4f} s per image on the emulator ({side})")
    if "rate_stream_accuracy" in result:
        print(f"rate model on the exact memory read as the chip reads it (back to back, "
              f"window average) {result['rate_stream_accuracy'] * 100:.2f} %")
    if "base_rate_stream_accuracy" in result:
        print(f"the model before fine-tuning against the spiking memory, read the same "
              f"way {result['base_rate_stream_accuracy'] * 100:.2f} %")


def _add_train(ps_sub):
    from nengo_lmu.neurons import NEURON_TYPES  # pylint: disable=import-outside-toplevel
    from nengo_lmu.readout import (  # pylint: disable=import-outside-toplevel
        READOUT_LOSSES,
        ReadoutScheme,
    )
    from nengo_lmu.data import SIDE  # pylint: disable=import-outside-toplevel
    from nengo_lmu.systems import MEMORY_KINDS  # pylint: disable=import-outside-toplevel
    from nengo_lmu.tasks.psmnist import (  # pylint: disable=import-outside-toplevel
        DEFAULTS,
        TRANSLATE,
    )
    from nengo_lmu.training import METHODS  # pylint: disable=import-outside-toplevel

    tr = ps_sub.add_parser(
        "train", help="train an LMU with NengoDL (resumes from DIR's checkpoint)",
        description="Train a psMNIST LMU classifier with NengoDL. A checkpoint is "
        "written after every epoch; rerunning the same command resumes.",
    )
    add_out(tr, "model directory")
    tr.add_argument("--epochs", type=number(int, "--epochs", 1), default=DEFAULTS["epochs"],
                    help="epochs in total (default: %(default)s)")
    tr.add_argument("--method", choices=METHODS, default=DEFAULTS["method"],
                    help="parallel (closed-form memory) or sequential (BPTT) "
                    "(default: %(default)s)")
    tr.add_argument("--units", type=number(int, "--units", 1), default=DEFAULTS["units"],
                    help="hidden units (default: %(default)s)")
    tr.add_argument("--order", type=number(int, "--order", 1), default=DEFAULTS["order"],
                    help="memory order (default: %(default)s)")
    tr.add_argument("--memory-kind", choices=MEMORY_KINDS, default="legendre",
                    help="memory system: the LMU's Legendre delay system, or a bank of "
                    "order/2 damped oscillators (block diagonal: fits one Loihi chip at "
                    "psMNIST size; --order even), recorded in config.json "
                    "(default: %(default)s)")
    tr.add_argument("--permutation-seed", type=seed_number("--permutation-seed"),
                    default=DEFAULTS["permutation_seed"],
                    help="seed of the pixel permutation (default: %(default)s)")
    add_seed(tr, "training seed: initial weights, data order and NengoDL; the same "
             "command gives the same weights")
    tr.add_argument("--neuron-type", choices=sorted(NEURON_TYPES),
                    default=DEFAULTS["neuron_type"],
                    help="hidden neuron type (default: %(default)s)")
    tr.add_argument("--batch-size", type=number(int, "--batch-size", 1),
                    default=DEFAULTS["batch_size"], help="minibatch size (default: %(default)s)")
    tr.add_argument("--learning-rate", type=number(float, "--learning-rate", 0, exclusive=True),
                    default=None,
                    help="initial learning rate, cosine-decayed (default: 2e-3 for "
                    "parallel, 1e-4 for sequential)")
    tr.add_argument("--weight-decay", type=number(float, "--weight-decay", 0),
                    default=DEFAULTS["weight_decay"],
                    help="AdamW weight decay, 0 for plain Adam (default: %(default)s)")
    tr.add_argument("--n-train", type=number(int, "--n-train", 1), default=None,
                    help="use only the first N training images (default: all 50,000)")
    tr.add_argument("--translate", type=number(int, "--translate", 0, maximum=SIDE - 1),
                    default=None, metavar="PIXELS",
                    help="move each training image by a random whole number of pixels, up "
                    "to PIXELS along each axis, before the permutation, anew every epoch; 0 "
                    f"for none (default: {TRANSLATE} with --readout exact, 0 with hold)")
    for flag in RECURRENT_FLAGS:
        tr.add_argument(f"--{flag.replace('_', '-')}", action="store_true",
                        help=f"LMU option {flag} ({RECURRENT_HELP[flag]})")
    tr.add_argument("--readout", choices=("exact", "hold"), default="exact",
                    help="memory readout trained for: exact m_T, or 'hold' as the spiking "
                    "memory on Loihi delivers it (images back to back, read during the "
                    "last --window of --hold-steps zero steps; parallel method only) "
                    "(default: %(default)s)")
    tr.add_argument("--hold-steps", type=number(int, "--hold-steps", 1),
                    default=ReadoutScheme.hold_steps,
                    help="with --readout hold: zero steps after each image "
                    "(default: %(default)s)")
    tr.add_argument("--window", type=number(int, "--window", 1), default=ReadoutScheme.window,
                    help="with --readout hold: last steps of the hold read out "
                    "(default: %(default)s)")
    tr.add_argument("--memory-noise", type=number(float, "--memory-noise", 0), default=0.0,
                    help="with --readout hold: Gaussian noise on the memory relative to "
                    "each dimension's largest value (default: %(default)s)")
    tr.add_argument("--readout-draws", type=number(int, "--readout-draws", 1), default=2,
                    help="with --readout hold: augmented copies of the training set "
                    "(default: %(default)s)")
    tr.add_argument("--readout-loss", choices=READOUT_LOSSES, default="draw",
                    help="with --readout hold: the loss of each copy read at one drawn "
                    "shift of the window (draw), or of the logits averaged over the window, "
                    "as the chip reads out (window) (default: %(default)s)")
    add_no_progress(tr)
    tr.set_defaults(func=cmd_psmnist_train)


#: ``psmnist finetune``'s numeric flags, keys of `nengo_lmu.tasks.finetune.FINETUNE`:
#: key, type, minimum, exclusive, help (``seed`` also at most `MAX_SEED`).
FINETUNE_NUMBERS = (
    ("memory_neurons", int, 1, False, "neurons per memory dimension"),
    ("memory_copies", int, 1, False, "independent copies of the spiking memory, averaged "
     "(one ensemble per state variable holds them all: more neurons, the same cores)"),
    ("memory_max_rate", float, 0, True, "highest rate in Hz of the memory's neurons"),
    ("seed", int, 0, False, "seed of the simulated memory; evaluate uses it by default"),
    ("n_train", int, 1, False, "training images simulated"),
    ("n_valid", int, 1, False, "validation images simulated"),
    ("n_synthetic", int, 0, False, "with --from-rest: training images beyond --n-train "
     "whose states are synthesised from their exact memory (the simulated images' affine "
     "map plus the residual of one of them), not simulated"),
    ("epochs", int, 1, False, "epochs"),
    ("learning_rate", float, 0, True, "initial learning rate, cosine-decayed"),
    ("weight_decay", float, 0, False, "AdamW weight decay"),
    ("readout_draws", int, 1, False, "with --readout-loss draw: shifts of the readout "
     "window drawn per image"),
    ("max_rate", float, 0, True, "rate in Hz of the 99th percentile of the hidden "
     "neurons on chip; evaluate uses it by default"),
    ("steps_per_element", int, 1, False, "chip steps per sequence element (and hold step) "
     "of the simulated memory, K times slower, as evaluate --steps-per-element K deploys "
     "it; evaluate uses it by default"),
)


def _add_finetune(ps_sub):
    from nengo_lmu.readout import (  # pylint: disable=import-outside-toplevel
        READOUT_LOSSES,
        ReadoutScheme,
    )
    from nengo_lmu.memory_simulation import DTYPES  # pylint: disable=import-outside-toplevel
    from nengo_lmu.tasks.finetune import (  # pylint: disable=import-outside-toplevel
        FINETUNE,
        MEMORY_SIMULATIONS,
        MEMORY_WEIGHTS,
    )

    ft = ps_sub.add_parser(
        "finetune", help="fine-tune a model's classifier against its spiking memory on Loihi",
        description="Simulate the spiking memory that `evaluate --backend loihi --memory "
        "spiking` puts on chip (Loihi's neuron model) on training and "
        "validation images, and fine-tune the model's hidden and output layers on what "
        "it delivers. Writes a new model directory (resumable).",
    )
    ft.add_argument("--model", required=True, metavar="DIR", help="trained model directory")
    add_out(ft, "new model directory")
    for key, kind, minimum, exclusive, text in FINETUNE_NUMBERS:
        flag = "--" + key.replace("_", "-")
        maximum = MAX_SEED if key == "seed" else None
        ft.add_argument(flag, type=number(kind, flag, minimum, exclusive=exclusive,
                                          maximum=maximum),
                        default=FINETUNE[key], help=f"{text} (default: %(default)s)")
    ft.add_argument("--weights", choices=MEMORY_WEIGHTS, default=FINETUNE["weights"],
                    help="the simulated memory's recurrent weights: the 8-bit ones Loihi "
                    "stores, or nengo's floating-point ones (default: %(default)s)")
    ft.add_argument("--memory-dtype", choices=DTYPES, default=FINETUNE["memory_dtype"],
                    help="floating-point type of the simulated memory's recurrent product; "
                    "float32 is about twice as fast, a different draw of the same "
                    "distortion (default: %(default)s)")
    ft.add_argument("--memory-simulation", choices=MEMORY_SIMULATIONS,
                    default=FINETUNE["memory_simulation"],
                    help="where the memory runs: nengo's floating-point simulation of "
                    "Loihi's neurons, or the batched Loihi emulator itself (needs "
                    "--from-rest) (default: %(default)s)")
    ft.add_argument("--from-rest", action="store_true",
                    help="simulate every image from rest, as a batched evaluate "
                    "(--batch-size) runs them, not after another image: half the steps")
    ft.add_argument("--states-cache", metavar="FILE.npz", default=FINETUNE["states_cache"],
                    help="keep the simulated memory states in FILE.npz: the first run "
                    "writes them, a later one with the same network, memory settings and "
                    "images (other epochs, learning rate, --out, a resume, or another "
                    "model of that network: the states do not depend on its weights) "
                    "reads them instead of simulating again (default: none)")
    ft.add_argument("--workers", type=number(int, "--workers", 1), default=FINETUNE["workers"],
                    metavar="N",
                    help="with --memory-simulation emulator: emulate the images in chunks on "
                    "N processes of this machine; the same states whatever N "
                    "(default: %(default)s)")
    ft.add_argument("--ray-address", default=FINETUNE["ray_address"], metavar="ADDR",
                    help="with --memory-simulation emulator: send the chunks to the Ray "
                    "cluster at ADDR instead (as evaluate --ray-address; needs pip install "
                    "nengo-lmu[cluster])")
    ft.add_argument("--readout-loss", choices=READOUT_LOSSES, default=FINETUNE["readout_loss"],
                    help="the loss of the logits averaged over the readout window, as the "
                    "chip reads out (window), or of each drawn shift (draw) "
                    "(default: %(default)s)")
    ft.add_argument("--hold-steps", type=number(int, "--hold-steps", 1), default=None,
                    help="zero steps after each image (default: the model's, or "
                    f"{ReadoutScheme.hold_steps})")
    ft.add_argument("--window", type=number(int, "--window", 1), default=None,
                    help="last steps of the hold read out (default: the model's, or "
                    f"{ReadoutScheme.window})")
    add_memory_synapse_arg(ft)
    add_no_progress(ft)
    ft.set_defaults(func=cmd_psmnist_finetune)


def _add_evaluate(ps_sub):
    from nengo_lmu.backends import BACKENDS  # pylint: disable=import-outside-toplevel

    ev = ps_sub.add_parser(
        "evaluate", help="test accuracy of a trained model (NengoDL, nengo or Loihi)",
        description="Test accuracy of a trained model. --backend loihi runs the spiking "
        "classifier on nengo_loihi (the emulator without a board) and reports the rate "
        "model's accuracy on the same images.",
    )
    ev.add_argument("--model", required=True, metavar="DIR", help="model directory")
    ev.add_argument("--backend", choices=BACKENDS, default="dl",
                    help="simulator: the temporal rate network in NengoDL (dl) or nengo, "
                    "or the spiking network on Loihi (default: %(default)s)")
    ev.add_argument("--n-test", type=number(int, "--n-test", 1), default=None,
                    help="evaluate the first N test images (default: all 10,000)")
    ev.add_argument("--start", type=number(int, "--start", 0), default=0, metavar="I",
                    help="begin at test image I (0-based): --start 2000 --n-test 3000 "
                    "evaluates images 2,000-4,999; each image from rest gets the prediction "
                    "of a run of them all, so a long evaluation can run in parts "
                    "(default: %(default)s)")
    ev.add_argument("--batch-size", type=number(int, "--batch-size", 1), default=None,
                    metavar="B", help="images run side by side: NengoDL's minibatch with "
                    "--backend dl (default 100); with --backend nengo B images at once in "
                    "one simulator, each from rest (default: one after another, the same "
                    "logits to rounding); with --backend loihi B images at once, "
                    "each from rest, identical whatever B (default: back to back in one "
                    "simulation, each image after the previous one; 64 with --workers or "
                    "--ray-address)")
    ev.add_argument("--workers", type=number(int, "--workers", 1), default=1, metavar="N",
                    help="with --backend loihi: run the images in chunks on N processes "
                    "of this machine, each from rest; a chunk whose process dies runs "
                    "again; the same results whatever N (default: %(default)s)")
    ev.add_argument("--ray-address", default=None, metavar="ADDR",
                    help="with --backend loihi: send the chunks to the Ray cluster at ADDR "
                    "(auto, HOST:PORT or ray://HOST:PORT; every node with the same "
                    "nengo-lmu installed) instead; needs pip install nengo-lmu[cluster]")
    ev.add_argument("--streams", action="store_true",
                    help="with --backend loihi and --batch-size: run the images back to "
                    "back in B streams of consecutive images side by side, each image "
                    "after the one before it in its stream (as the chip streams them, and "
                    "as a --readout hold model is read), instead of each from rest")
    add_spiking_args(ev)
    add_json(ev, "result")
    add_no_progress(ev)
    ev.set_defaults(func=cmd_psmnist_evaluate)


def add_parser(subparsers):
    """Register ``psmnist`` and its commands ``train``, ``finetune``, ``evaluate``."""
    psmnist = subparsers.add_parser("psmnist", help="permuted sequential MNIST: train, "
                                    "finetune, evaluate")
    ps_sub = psmnist.add_subparsers(dest="psmnist_command", metavar="COMMAND", required=True)
    _add_train(ps_sub)
    _add_finetune(ps_sub)
    _add_evaluate(ps_sub)
