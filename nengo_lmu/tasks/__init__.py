"""Applications built on the library: the paper's experiments and psMNIST.

- `nengo_lmu.tasks.delay`: the Legendre delay network on white noise.
- `nengo_lmu.tasks.psmnist`: permuted sequential MNIST: train, fine-tune,
  evaluate (NengoDL, nengo, Loihi).
- `nengo_lmu.tasks.capacity`: the memory-capacity experiment (LMU-0 vs LSTM).
- `nengo_lmu.tasks.mackey_glass`: Mackey-Glass prediction (LMU vs LSTM).
- `nengo_lmu.tasks.learning`: online PES learning on a spiking memory.
- `nengo_lmu.tasks.baselines`: Keras baselines (LSTM, feed-forward) of the
  experiments and the time budget of their training.
- `nengo_lmu.tasks.peers`: the LMU peers of the psMNIST speed comparison
  (keras-lmu, NengoDL's documentation example) and how training is timed.
- `nengo_lmu.tasks.reporting`: what the benchmark scripts share: logging,
  tables, the JSON and plot of a result.

Tasks import the library, never each other's internals or `nengo_lmu.cli`.
"""
