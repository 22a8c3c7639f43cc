# Set-up and entry points. Each target creates the virtual environment
# $(VENV) and installs nengo-lmu with everything it needs on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test benchmarks clean

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -e ".[all,tests]"
	touch $(STAMP)

demo: $(STAMP)  ## the main job: offline, a few minutes
	$(VENV)/bin/nengo-lmu demo --out results/demo

test: $(STAMP)  ## unit tests and the notebooks, executed top to bottom
	$(PY) -m pytest -n 2 -p no:cacheprovider tests

benchmarks: $(STAMP)  ## the full-size measurements (see benchmarks/), about three hours
	$(PY) benchmarks/delay.py --out results/benchmarks
	$(PY) benchmarks/psmnist.py --out results/benchmarks
	$(PY) benchmarks/loihi.py --out results/benchmarks
	$(PY) benchmarks/psmnist_seeds.py --out results/benchmarks
	$(PY) benchmarks/spiking_memory.py --out results/benchmarks
	$(PY) benchmarks/hidden_rate.py --out results/benchmarks \
		--model results/benchmarks/psmnist-order-16-hold-seed-0-finetuned-seed-0
	$(PY) benchmarks/capacity.py --out results/benchmarks --lstm-time-budget 900
	$(PY) benchmarks/mackey_glass.py --out results/benchmarks
	$(PY) benchmarks/memory_ceiling.py --out results/benchmarks
	$(PY) benchmarks/onchip_memory.py --out results/benchmarks/onchip \
		--realisations oscillators-16,oscillators-128 --n-test 64 --n-nrmse 10 \
		--finetune oscillators-16 --finetune-n-train 8000 --finetune-n-valid 1000
	# the dense Legendre rows; the oscillators' rows above stay, marked earlier
	$(PY) benchmarks/onchip_memory.py --out results/benchmarks/onchip \
		--realisations legendre-32,legendre-64,legendre-32x8@950,legendre-64x4@950,legendre-64x8@950 \
		--n-test 256 --n-nrmse 10 --n-nrmse-emulator 3
	# averaged copies of the order-64 memory, on the model trained above
	$(PY) benchmarks/memory_copies.py --model results/benchmarks/onchip/legendre-64 \
		--out results/benchmarks --report
	# benchmarks/nir_frameworks.py needs Norse in an environment of its own
	# (examples/nir/README.md): not run here.

clean:
	rm -rf $(VENV) results
