import warnings

import nengo
import numpy as np
import pytest

from nengo_lmu import LegendreDelay, LegendreMemory, make_simulator
from nengo_lmu.networks import CopySolver, OscillatorMemory, memory_network
from nengo_lmu.systems import OscillatorBank
from nengo_lmu.tasks.delay import run_delay


def exact_memory_net(memory_d=2, order=5, theta=0.2, seed=0):
    with nengo.Network(seed=seed) as net:
        net.stim = nengo.Node(
            nengo.processes.WhiteSignal(1.0, high=5, rms=0.3, seed=seed),
            size_out=memory_d,
        )
        net.memory = LegendreMemory(theta, order, memory_d=memory_d)
        nengo.Connection(net.stim, net.memory.input, synapse=None)
        net.p_u = nengo.Probe(net.stim, synapse=None)
        net.p_m = nengo.Probe(net.memory.output, synapse=None)
    return net


def test_exact_memory_is_the_discrete_system(allclose):
    net = exact_memory_net()
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run(0.5)
    u, m = sim.data[net.p_u], sim.data[net.p_m]
    Ad, Bd = LegendreDelay(0.2, 5).discretize(sim.dt)
    x = np.zeros((2, 5))
    expected = []
    for uk in u:  # m[k] = Ad m[k-1] + Bd u[k], one memory per input dim
        x = x @ Ad.T + uk[:, None] * Bd[:, 0]
        expected.append(x.ravel())
    assert allclose(m, np.array(expected), atol=1e-10)


def test_exact_memory_nengo_dl_matches_nengo(allclose):
    import nengo_dl

    net = exact_memory_net()
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run(0.3)
    with nengo_dl.Simulator(net, progress_bar=False) as sim_dl:
        sim_dl.run(0.3)
    assert allclose(sim_dl.data[net.p_m], sim.data[net.p_m], atol=1e-5)


def test_exact_memory_nengo_loihi_matches_nengo(allclose):
    """The exact memory runs on the host beside on-chip neurons it drives."""
    net = exact_memory_net(memory_d=1)
    with net:  # nengo_loihi needs something on chip
        ens = nengo.Ensemble(20, 1)
        nengo.Connection(net.memory.output[0], ens)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run(0.3)
    with make_simulator(net, "loihi") as sim_loihi:
        sim_loihi.run(0.3)
        assert len(sim_loihi.model.blocks) == 1  # the ensemble's, nothing added
    assert allclose(sim_loihi.data[net.p_m], sim.data[net.p_m], atol=1e-6)


def test_spiking_memory_nengo():
    res = run_delay(order=4, theta=0.5, freq=1.0, n_neurons=80, backend="nengo",
                    sim_time=4.0, seed=1, progress_bar=False)
    assert res["n_neurons_total"] == 320
    errors = np.array(list(res["nrmse"].values()))
    # seeds 1-3 give 0.02-0.08 here; an exact memory gives 0.002-0.02
    assert np.all(errors < 0.12), res["nrmse"]


def test_spiking_memory_loihi_emulator():
    """With its default arguments the memory is built for the chip by
    nengo_loihi (input filtered once, on chip); filtered on the host as
    well (``loihi_input=False``), its input spikes add their noise."""
    args = dict(order=4, theta=0.5, freq=1.0, n_neurons=80, backend="loihi",
                sim_time=4.0, seed=1, progress_bar=False, state="decoded")
    errors = np.array(list(run_delay(**args)["nrmse"].values()))
    # seeds 1-3 give 0.05-0.14 here (chip quantization and input spikes)
    assert np.all(errors < 0.2), errors
    twice = np.array(list(run_delay(loihi_input=False, **args)["nrmse"].values()))
    assert np.mean(twice) > 2 * np.mean(errors), (twice, errors)


def test_spiking_memory_nengo_dl_runs_like_nengo(allclose):
    """The same spiking network, simulated by NengoDL, gives nengo's spikes."""
    import nengo_dl

    with nengo.Network(seed=2) as net:
        stim = nengo.Node(lambda t: 0.5 * np.sin(4 * t))
        mem = LegendreMemory(0.5, 3, n_neurons=30)
        nengo.Connection(stim, mem.input, synapse=None)
        p = nengo.Probe(mem.output, synapse=0.05)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run(0.5)
    with nengo_dl.Simulator(net, progress_bar=False) as sim_dl:
        sim_dl.run(0.5)
    assert allclose(sim_dl.data[p], sim.data[p], atol=1e-4)


@pytest.mark.parametrize("backend", ["nengo", "dl"])
def test_loihi_input_memory_runs_unchanged_off_chip(backend, allclose):
    """A loihi_input memory's input is filtered on the host off chip: its
    spikes are those of the same memory built for the host with the synapse
    the chip realises, through make_simulator or a bare simulator, also
    after a nengo_loihi build (which leaves the input unfiltered while it
    builds, and restores it)."""
    tau = LegendreMemory(0.3, 3, n_neurons=1, loihi_input=True).realised_tau
    assert tau != 0.1  # Loihi quantizes the decay of a 0.1 s lowpass
    probes = []
    for loihi_input, synapse in ((False, tau), (True, 0.1)):
        with nengo.Network(seed=3) as net:
            stim = nengo.Node(lambda t: 0.5 * np.sin(6 * t))
            mem = LegendreMemory(0.3, 3, n_neurons=20, synapse=synapse,
                                 loihi_input=loihi_input, seed=3)
            nengo.Connection(stim, mem.input, synapse=None)
            p = nengo.Probe(mem.output, synapse=0.02)
        with make_simulator(net, backend, progress_bar=False) as sim:
            sim.run(0.3)
        probes.append(sim.data[p])
    make_simulator(net, "loihi").close()
    bare = nengo.Simulator
    if backend == "dl":
        import nengo_dl

        bare = nengo_dl.Simulator
    with bare(net, progress_bar=False) as sim:
        sim.run(0.3)
    probes.append(sim.data[p])
    assert np.any(probes[0] != 0)
    assert allclose(probes[1], probes[0], atol=1e-6)
    assert allclose(probes[2], probes[0], atol=1e-6)


def sine_memory_net(seed=3, **kwargs):
    with nengo.Network(seed=seed) as net:
        stim = nengo.Node(lambda t: 0.5 * np.sin(6 * t))
        net.memory = LegendreMemory(0.3, 3, n_neurons=20, seed=seed, **kwargs)
        nengo.Connection(stim, net.memory.input, synapse=None)
        net.p = nengo.Probe(net.memory.output, synapse=0.02)
    return net


def run_for(net, backend="nengo", steps=300, plain=False):
    if plain:  # nengo_loihi itself, without make_simulator
        import nengo_loihi

        sim = nengo_loihi.Simulator(net)
    else:
        sim = make_simulator(net, backend, progress_bar=False)
    with sim:
        sim.run_steps(steps)
    return sim.data[net.p]


def test_default_memory_is_built_for_the_simulator(allclose):
    """loihi_input=None: on nengo the memory of loihi_input=False, on
    nengo_loihi (make_simulator or plain) that of loihi_input=True, and the
    network is left as it was built."""
    default = sine_memory_net()
    assert allclose(run_for(default), run_for(sine_memory_net(loihi_input=False)),
                    atol=0)
    on_chip = run_for(sine_memory_net(loihi_input=True), "loihi")
    assert np.any(on_chip != 0)
    assert allclose(run_for(default, "loihi"), on_chip, atol=0)
    assert allclose(run_for(default, plain=True), on_chip, atol=0)
    mem = default.memory
    assert all(c.synapse == nengo.Lowpass(0.1) for c in mem.input_connections)
    assert all(c.synapse == nengo.Lowpass(0.1) for c in mem.recurrent_connections)
    assert np.array_equal(mem.A_rec, mem.mapping_matrices(0.1)[0])


def test_loihi_runs_repeat_with_unseeded_input(allclose):
    """nengo_loihi builds its host simulators without a seed; make_simulator
    seeds them, so an input process without a seed repeats (the README's)."""
    runs = []
    for _ in range(2):
        with nengo.Network(seed=0) as net:
            stim = nengo.Node(nengo.processes.WhiteSignal(1, high=5, rms=0.3))
            mem = LegendreMemory(0.3, 2, n_neurons=10)
            nengo.Connection(stim, mem.input, synapse=None)
            probes = nengo.Probe(stim), nengo.Probe(mem.output)
        with make_simulator(net, "loihi") as sim:
            sim.run_steps(100)
        runs.append([sim.data[p] for p in probes])
    assert np.any(runs[0][0] != 0) and np.any(runs[0][1] != 0)
    assert all(np.array_equal(a, b) for a, b in zip(*runs))


def test_realised_with_restores_the_memory():
    mem = sine_memory_net().memory
    before = [(c.synapse, c.transform.init) for c in mem.input_connections
              + mem.recurrent_connections]
    A_chip, B_chip = mem.mapping_matrices(0.05)
    with mem.realised_with(0.05, input_synapse=None):
        assert mem.realised_tau == 0.05 and np.array_equal(mem.A_rec, A_chip)
        assert all(c.synapse is None for c in mem.input_connections)
        assert mem.recurrent_connections[1].transform.init == A_chip[0, 1]
        post = mem.state_ensembles[2]
        assert np.array_equal(mem.input_connections[2].transform.init,
                              post.encoders * B_chip[2, 0] / post.radius)
    after = [(c.synapse, c.transform.init) for c in mem.input_connections
             + mem.recurrent_connections]
    assert mem.realised_tau == 0.1 and before == after


@pytest.mark.parametrize("n_neurons", [None, 10])
def test_memory_as_the_top_level_network_on_nengo_loihi(n_neurons):
    import nengo_loihi

    mem = LegendreMemory(0.3, 2, n_neurons=n_neurons, seed=0)
    with mem:
        p = nengo.Probe(mem.output)
    with nengo_loihi.Simulator(mem) as sim:
        sim.run_steps(10)
    assert sim.data[p].shape == (10, 2)
    idle = [b for b in sim.model.blocks if "idle" in (b.label or "")]
    assert len(idle) == (1 if n_neurons is None else 0)


def test_plain_nengo_loihi_refuses_memory_for_another_dt():
    import nengo_loihi

    net = sine_memory_net(dt=0.002)
    with pytest.raises(ValueError, match=r"built for dt=0\.002 s but the simulator's dt "
                                         r"is 0\.001 s"):
        nengo_loihi.Simulator(net)


@pytest.mark.parametrize("plain", [False, True])
def test_exact_memory_alone_runs_on_nengo_loihi(plain, allclose):
    """A network whose only memory is exact (no neurons) builds and runs on
    nengo_loihi, which computes it on the host, as nengo does."""
    import nengo_loihi

    net = exact_memory_net(memory_d=1)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run(0.3)
    sim_loihi = nengo_loihi.Simulator(net) if plain else make_simulator(net, "loihi")
    with sim_loihi:
        sim_loihi.run(0.3)
        assert len(sim_loihi.model.blocks) == 1  # one silent compartment
    assert np.any(sim.data[net.p_m] != 0)
    assert allclose(sim_loihi.data[net.p_m], sim.data[net.p_m], atol=1e-6)


def test_state_estimate_of_exact_memory_is_identity():
    mem = LegendreMemory(1.0, 3)
    m = np.random.RandomState(0).randn(10, 3)
    assert np.array_equal(mem.state_estimate(m, np.zeros((10, 1))), m)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n_neurons=0), "n_neurons"),
        (dict(n_neurons=2.5), "n_neurons"),
        (dict(memory_d=0), "memory_d"),
        (dict(synapse=0), "synapse"),
        (dict(dt=-0.001), "dt"),
        (dict(mapping="exact"), "mapping"),
        (dict(discretizer="rk4"), "discretizer"),
        (dict(radius=[1.0, 2.0]), "radius"),
        (dict(neuron_type="lif"), "neuron_type"),
        (dict(theta=0), "theta"),
        (dict(order=0), "order"),
        (dict(loihi_calibration="yes"), "loihi_calibration"),
        (dict(n_neurons=10, copies=0), "copies"),
        (dict(n_neurons=10, copies=1.5), "copies"),
        (dict(copies=2), "copies > 1 needs n_neurons"),
    ],
)
def test_bad_network_parameters(kwargs, name):
    args = dict(theta=1.0, order=4)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        LegendreMemory(**args)


def test_bad_backend():
    with pytest.raises(ValueError, match="backend must be one of"):
        make_simulator(nengo.Network(), "gpu")


# -- seeds of memories built inside seeded networks (issue 14) -----------------


def readme_network():
    """The README's example network: a spiking memory without a seed of its own."""
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(nengo.processes.WhiteSignal(1, high=1, rms=0.3, y0=0))
        net.memory = LegendreMemory(theta=1.0, order=6, n_neurons=100)
        nengo.Connection(stim, net.memory.input, synapse=None)
        net.p = nengo.Probe(net.memory.output, synapse=0.05)
    return net


def tuning(sim, memory):
    return [np.concatenate([sim.data[e].gain for e in memory.state_ensembles]),
            np.concatenate([sim.data[e].bias for e in memory.state_ensembles])]


def test_readme_example_is_deterministic():
    """A memory without a seed derives one from its seeded parent: the README's
    example gives the same tuning and output on every build."""
    runs = []
    for _ in range(2):
        net = readme_network()
        with make_simulator(net, "nengo", progress_bar=False) as sim:
            sim.run(0.3)
        runs.append((net.memory.seed, tuning(sim, net.memory), sim.data[net.p]))
    (seed1, (gain1, bias1), out1), (seed2, (gain2, bias2), out2) = runs
    assert seed1 is not None and seed1 == seed2
    assert np.array_equal(gain1, gain2) and np.array_equal(bias1, bias2)
    assert np.array_equal(out1, out2) and np.any(out1 != 0)


def test_memories_in_one_parent_get_different_tuning():
    with nengo.Network(seed=5):
        a = LegendreMemory(1.0, 3, n_neurons=20)
        b = LegendreMemory(1.0, 3, n_neurons=20)
        c = LegendreMemory(1.0, 3, n_neurons=20, seed=7)
    assert a.seed != b.seed and c.seed == 7
    gains = [np.concatenate([e.gain for e in m.state_ensembles]) for m in (a, b)]
    assert not np.array_equal(*gains)
    with nengo.Network(seed=6):
        other = LegendreMemory(1.0, 3, n_neurons=20)
    assert other.seed not in (a.seed, b.seed)


def test_seed_derives_through_unseeded_networks():
    """The nearest seeded ancestor counts, as in nengo's build."""
    seeds = []
    for _ in range(2):
        with nengo.Network(seed=1):
            nengo.Network()  # a sibling before: positions are part of the path
            with nengo.Network():
                seeds.append(LegendreMemory(1.0, 3, n_neurons=5).seed)
    assert seeds[0] is not None and seeds[0] == seeds[1]
    with nengo.Network(seed=1):
        with nengo.Network():
            assert LegendreMemory(1.0, 3, n_neurons=5).seed != seeds[0]
        # not added to the parent: no derivation
        assert LegendreMemory(1.0, 3, add_to_container=False).seed is None


def test_unseeded_memory_stays_random():
    """Without a seeded network around it the tuning is drawn anew, as in nengo."""
    gains = []
    for _ in range(2):
        with nengo.Network():
            mem = LegendreMemory(1.0, 3, n_neurons=20)
        assert mem.seed is None
        gains.append(np.concatenate([e.gain for e in mem.state_ensembles]))
    assert not np.array_equal(*gains)


# -- bad input (issue 14; the full table is tests/test_bad_input_library.py) ----


def test_max_rates_above_one_spike_per_step_warn_for_relu():
    """nengo gives SpikingRectifiedLinear several spikes per step; Loihi cannot."""
    with pytest.warns(UserWarning, match=r"max_rates reach 2000 Hz, above 1/dt = 1000 Hz"):
        LegendreMemory(1.0, 3, n_neurons=5, max_rates=nengo.dists.Uniform(1500, 2000))
    # exactly 1/dt, and rate neurons, are fine
    LegendreMemory(1.0, 3, n_neurons=5, max_rates=nengo.dists.Uniform(800, 1000))
    LegendreMemory(1.0, 3, n_neurons=5, neuron_type=nengo.RectifiedLinear(),
                   max_rates=nengo.dists.Uniform(1500, 2000))


def test_memory_built_for_another_dt_refused():
    """The memory's discretization holds for its own dt only: run at another
    step, a 0.5 s delay reads back a fraction of what it should."""
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(lambda t: 1.0 if t < 0.1 else 0.0)
        mem = LegendreMemory(0.5, 6, dt=0.001, label="half-second memory")
        nengo.Connection(stim, mem.input, synapse=None)
    with pytest.raises(ValueError, match=r"'half-second memory' was built for dt=0\.001 s "
                                         r"but the simulator's dt is 0\.01 s"):
        make_simulator(net, "nengo", dt=0.01)
    make_simulator(net, "nengo", dt=0.001, progress_bar=False).close()


def test_exact_memory_in_steps_runs_at_any_dt():
    """dt=1 counts theta in steps (the LMU cell's memory)."""
    with nengo.Network() as net:
        LegendreMemory(10.0, 4, dt=1.0)
    for dt in (0.001, 0.01):
        make_simulator(net, "nengo", dt=dt, progress_bar=False).close()


# -- the oscillator bank as a network -----------------------------------------------


def test_oscillator_memory_exact_is_the_discrete_system(allclose):
    u = np.sin(np.arange(600) * 0.02)
    with nengo.Network() as net:
        mem = OscillatorMemory(0.4, 6, dt=0.001)
        stim = nengo.Node(nengo.processes.PresentInput(u[:, None], 0.001))
        nengo.Connection(stim, mem.input, synapse=None)
        p = nengo.Probe(mem.output, synapse=None)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run_steps(len(u))
    # independent: the bank's closed form against scipy's ZOH in test_systems
    assert allclose(sim.data[p], OscillatorBank(0.4, 6).trajectory(u, 0.001), atol=1e-12)
    assert memory_network("oscillators") is OscillatorMemory
    assert memory_network("legendre") is LegendreMemory


def test_oscillator_memory_is_block_diagonal():
    """One 2-D ensemble per oscillator, recurrent weights only within it."""
    mem = OscillatorMemory(0.5, 8, memory_d=2, n_neurons=10, seed=1,
                           radius=[1, 2, 3, 1, 1, 1, 0.5, 0.5])
    assert len(mem.state_ensembles) == 8 and mem.n_neurons_total == 160
    assert [e.n_neurons for e in mem.state_ensembles] == [20] * 8
    assert [e.radius for e in mem.state_ensembles[:4]] == [2, 3, 1, 0.5]
    ens = mem.state_ensembles[0]
    assert np.array_equal(np.abs(ens.encoders), np.repeat(np.eye(2), 10, axis=0))
    recurrent = [c for c in mem.all_connections
                 if c.pre_obj in mem.state_ensembles and c.post_obj in mem.state_ensembles]
    assert len(recurrent) == 8 and all(c.pre_obj is c.post_obj for c in recurrent)
    bank = OscillatorBank(0.5, 8)
    assert np.allclose(recurrent[1].transform.init, mem.A_rec[2:4, 2:4])
    assert np.allclose(mem.A_rec, bank.discrete_mapping(0.1, 0.001)[0])
    with pytest.raises(ValueError, match="order must be even"):
        OscillatorMemory(0.5, 3, n_neurons=10)


def test_spiking_oscillator_memory_follows_exact():
    """A slow bank of spiking neurons tracks its exact state."""
    u = nengo.processes.WhiteSignal(1.0, high=3, rms=0.5, seed=0).run_steps(1000)[:, 0]
    bank = OscillatorBank(0.5, 4)
    radius = np.abs(bank.trajectory(u, 0.001)).max()
    with nengo.Network(seed=0) as net:
        mem = OscillatorMemory(0.5, 4, n_neurons=100, radius=radius, seed=0,
                               max_rates=nengo.dists.Uniform(200, 400))
        stim = nengo.Node(nengo.processes.PresentInput(u[:, None], 0.001))
        nengo.Connection(stim, mem.input, synapse=None)
        p = nengo.Probe(mem.output, synapse=0.01)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run_steps(len(u))
    exact = nengo.Lowpass(0.01).filt(bank.trajectory(u, 0.001), dt=0.001, y0=0)
    err = np.sqrt(np.mean((sim.data[p] - exact) ** 2)) / np.sqrt(np.mean(exact**2))
    assert err < 0.15, err  # 0.066 here; a memory stuck at zero: 1


def test_spiking_oscillator_memory_on_nengo_dl_and_loihi(allclose):
    """The same network runs in NengoDL (nengo's spikes) and on the emulator."""
    import nengo_dl

    u = nengo.processes.WhiteSignal(0.6, high=3, rms=0.5, seed=1).run_steps(600)
    bank = OscillatorBank(0.5, 4)
    exact = nengo.Lowpass(0.02).filt(bank.trajectory(u[:, 0], 0.001), dt=0.001, y0=0)
    radius = np.abs(exact).max()
    with nengo.Network(seed=2) as net:
        stim = nengo.Node(nengo.processes.PresentInput(u, 0.001))
        mem = OscillatorMemory(0.5, 4, n_neurons=60, radius=radius, loihi_input=True, seed=2,
                               max_rates=nengo.dists.Uniform(300, 400),
                               intercepts=nengo.dists.Uniform(-0.2, 0.2))
        nengo.Connection(stim, mem.input, synapse=None)
        p = nengo.Probe(mem.output, synapse=0.02)
    with make_simulator(net, "nengo", progress_bar=False) as sim:
        sim.run_steps(600)
    with make_simulator(net, "dl", progress_bar=False) as sim_dl:
        sim_dl.run_steps(600)
    assert allclose(sim_dl.data[p], sim.data[p], atol=1e-4)
    with make_simulator(net, "loihi", progress_bar=False) as sim_loihi:
        sim_loihi.run_steps(600)
    for data in (sim.data[p], sim_loihi.data[p]):
        err = np.sqrt(np.mean((data - exact) ** 2) / np.mean(exact**2))
        assert err < 0.25, err  # 0.04 in nengo, 0.11 on the emulator; a memory at zero: 1


def test_oscillator_memory_realised_with_restores_its_blocks():
    mem = OscillatorMemory(0.5, 8, memory_d=2, n_neurons=10, seed=1)
    before = [(c.synapse, np.array(c.transform.init)) for c in mem.input_connections
              + mem.recurrent_connections]
    A_chip, B_chip = mem.mapping_matrices(0.05)
    with mem.realised_with(0.05, input_synapse=None):
        # oscillator 5 is the second input's second oscillator: rows 2 and 3
        rec, inp = mem.recurrent_connections[5], mem.input_connections[5]
        assert rec.synapse.tau == 0.05 and inp.synapse is None
        assert np.array_equal(rec.transform.init, A_chip[2:4, 2:4])
        ens = rec.post_obj
        assert np.array_equal(inp.transform.init, ens.encoders @ B_chip[2:4] / ens.radius)
    after = [(c.synapse, np.array(c.transform.init)) for c in mem.input_connections
             + mem.recurrent_connections]
    assert len(before) == 2 * 8 and all(
        s0 == s1 and np.array_equal(t0, t1) for (s0, t0), (s1, t1) in zip(before, after))


def test_lag_mapping_matches_a_delayed_loop_to_first_order():
    """Principle 3 mapped for a loop delay of d steps (``lag=d dt``, folded
    into the lowpass as ``tau + lag``): the window read from the delayed loop
    ``x[k+1] = a x[k] + (1 - a) (A x[k - d] + B u[k])`` departs from the
    ideal one at low frequencies by less than a fifth of what it does when
    mapped without the lag (by the phase of the delay), and by less than
    half at half the band of a 1 Hz input. ``lag=0`` is the mapping of
    ``tau`` exactly."""
    memory = LegendreMemory(1.0, 6, n_neurons=None)
    dt, tau, d = memory.dt, 0.1, 3
    Ad, Bd = memory.system.discretize(dt)
    C = memory.system.readout([1.0])[:, 0]
    a, eye = np.exp(-dt / tau), np.eye(memory.order)

    def error(A, B, f):
        z = np.exp(2j * np.pi * f * dt)
        ideal = C @ np.linalg.solve(z * eye - Ad, Bd)[:, 0]
        low = (1 - a) / (z - a)  # the lowpass's discrete transfer
        real = C @ np.linalg.solve(eye - low * z ** -d * A, low * B)[:, 0]
        return abs(real / ideal - 1)

    A0, B0 = memory.mapping_matrices(0.1)
    assert all(np.array_equal(x, y) for x, y in zip((A0, B0), memory.system.discrete_mapping(tau, dt)))
    assert all(np.array_equal(x, y) for x, y in zip(memory.mapping_matrices(tau, 0.0), (A0, B0)))
    A1, B1 = memory.mapping_matrices(tau, lag=d * dt)
    for f, factor in ((0.01, 5), (0.1, 5), (0.5, 2)):  # Hz, theta = 1 s
        assert error(A0, B0, f) > factor * error(A1, B1, f), f
    with pytest.raises(ValueError, match="lag"):
        memory.mapping_matrices(tau, lag=-0.001)


def test_loihi_neurons_lag_and_the_chip_build_maps_for_it():
    """Loihi's neurons (voltage held at zero below threshold) lag their
    input by a few steps, nengo's by none; nengo_loihi's build maps
    principle 3 for that lag, unless the memory already runs Loihi's model
    (then nengo and the chip run the same mapping)."""
    from nengo_loihi.neurons import LoihiSpikingRectifiedLinear

    from nengo_lmu.backends import loihi_realisation
    from nengo_lmu.networks import loihi_tau
    from nengo_lmu.neurons import chip_rates

    memory = LegendreMemory(0.5, 3, n_neurons=60, seed=3)
    own = memory.neuron_lag()
    chip = memory.neuron_lag(LoihiSpikingRectifiedLinear(), rates=chip_rates)
    gains = memory.neuron_gains(LoihiSpikingRectifiedLinear(), rates=chip_rates)
    assert abs(own) < 0.5e-3 and chip > 1e-3, (own, chip)
    assert gains.shape == (3,) and np.all((gains > 0.8) & (gains < 1.2)), gains
    real = loihi_realisation(memory, 0.001)
    assert real[:2] == (loihi_tau(0.1, 0.001), chip) and np.array_equal(real.gains, gains)
    same = LegendreMemory(0.5, 3, n_neurons=60, seed=3,
                          neuron_type=LoihiSpikingRectifiedLinear())
    assert loihi_realisation(same, 0.001) == (loihi_tau(0.1, 0.001), 0.0, None)
    uncalibrated = LegendreMemory(0.5, 3, n_neurons=60, seed=3, loihi_calibration=False)
    assert loihi_realisation(uncalibrated, 0.001) == (loihi_tau(0.1, 0.001), chip, None)

    # a plain nengo_loihi build realises the lag- and gain-mapped transforms,
    # then restores them
    built = []
    realised_with = LegendreMemory.realised_with

    def spy(self, tau, input_synapse, lag=0.0, gains=None):
        built.append((tau, lag, gains, self.mapping_matrices(tau, lag, gains)[0]))
        return realised_with(self, tau, input_synapse, lag, gains)

    A_rec = memory.A_rec.copy()
    with nengo.Network(seed=0) as net:
        net.add(memory)
        nengo.Connection(nengo.Node(0.3), memory.input, synapse=None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LegendreMemory, "realised_with", spy)
        with make_simulator(net, "loihi") as sim:
            sim.run_steps(5)
    assert [b[:2] for b in built] == [(loihi_tau(0.1, 0.001), chip)]
    assert np.array_equal(built[0][2], gains)
    assert not np.allclose(built[0][3], A_rec)
    assert np.array_equal(memory.A_rec, A_rec)


def test_decoded_gains_are_the_decoders_shrinkage():
    """Open loop, nengo's neurons follow their rates, so the gain of their
    decoded output is the static gain of the rate decode (LstsqL2 shrinks
    it); Loihi's neurons, which lose their voltage below threshold, fall
    further short of it."""
    from nengo_loihi.neurons import LoihiSpikingRectifiedLinear

    from nengo_lmu.neurons import chip_rates, decoded_response

    memory = LegendreMemory(0.5, 2, n_neurons=100, seed=1)
    ens = memory.state_ensembles
    dt, tau = 0.001, 0.1
    x = nengo.processes.WhiteSignal(20, high=2, rms=0.3, y0=0, seed=2).run(20, dt=dt)
    x = np.hstack([x, -x])
    nengo_gains = decoded_response(ens, x, dt, tau)["gains"]
    static = []
    for e, xe in zip(ens, x.T):
        enc = e.encoders / e.radius
        points = np.linspace(-1, 1, 501)[:, None] * e.radius
        rates = e.neuron_type.rates(points @ enc.T, e.gain, e.bias)
        dec, _ = nengo.solvers.LstsqL2(reg=0.1)(rates, points, rng=np.random.RandomState(0))
        decoded = e.neuron_type.rates(xe[:, None] @ enc.T, e.gain, e.bias) @ dec
        static.append(float(decoded[:, 0] @ xe / (xe @ xe)))
    assert np.allclose(nengo_gains, static, atol=0.01), (nengo_gains, static)
    assert np.all(np.asarray(static) < 1)
    loihi = decoded_response(ens, x, dt, tau, neuron_type=LoihiSpikingRectifiedLinear(),
                             rates=chip_rates)["gains"]
    assert np.all(loihi < nengo_gains), (loihi, nengo_gains)


def test_gains_mapping_is_the_response_mapping_of_tau():
    from nengo_lmu.systems import response_mapping

    memory = LegendreMemory(0.5, 3, memory_d=2, n_neurons=20, seed=0)
    gains = np.array([0.9, 1.0, 0.95, 1.0, 1.0, 0.97])  # per state variable
    A_rec, B_in = memory.mapping_matrices(0.1, 0.002, gains)
    A0, B0 = memory.mapping_matrices(0.1)
    expected = response_mapping(A0, B0, memory.system.A, memory.system.B, 0.002,
                                [0.95, 1.0, 0.96])  # averaged over the two inputs
    assert np.allclose(A_rec, expected[0]) and np.allclose(B_in, expected[1])
    with pytest.raises(ValueError, match="gains"):
        memory.mapping_matrices(0.1, 0.002, [1.0, 1.0])


def test_chip_build_rounds_recurrent_weights_onto_the_chip_grid():
    """nengo_loihi's build of a memory rounds its recurrent weights onto the
    grid nengo_loihi's discretization uses (which then leaves them as they
    are), with a smaller error in the current the rates drive than rounding
    each weight to its nearest value."""
    import copy

    from nengo_loihi.builder.discretize import discretize_block

    import nengo_lmu.backends as backends
    from nengo_lmu.neurons import chip_rates

    with nengo.Network(seed=0) as net:
        memory = LegendreMemory(0.5, 3, n_neurons=60, seed=3)
        nengo.Connection(nengo.Node(0.3), memory.input, synapse=None)

    def float_build():
        model = backends.loihi_model(net)
        with backends.route_memory_inputs(net, "loihi"):
            model.build(net, precompute=True, discretize=False)
        return model

    def discretized(model, conn):
        """The synapse of ``conn`` as nengo_loihi discretizes it, in float units."""
        (block,) = model.objs[conn.post_obj]["in"]  # one block, not split over cores
        syn = model.objs[conn]["weights"]
        probe = copy.copy(block)
        probe.compartment = copy.deepcopy(block.compartment)
        probe.synapses = [copy.deepcopy(s) for s in block.synapses]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            discretize_block(probe)
        w = np.array([v[0] for v in syn.weights], dtype=float)
        q = np.array([v[0] for v in probe.synapses[block.synapses.index(syn)].weights],
                     dtype=float)
        return w, q * (w * q).sum() / (q * q).sum()

    rounded = float_build()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(backends, "round_recurrent_weights", lambda *args: 0)
        plain = float_build()  # nengo_loihi rounds each weight to its nearest
    error = {"rounded": 0.0, "nearest": 0.0}
    for conn in memory.recurrent_connections:
        built = plain.params[conn.pre_obj]
        rates = chip_rates(conn.pre_obj.neuron_type, built.eval_points @ built.encoders.T,
                           built.gain, built.bias, 0.001)
        H = rates.T @ rates  # the error of the current that the rates drive
        w_rounded, q_rounded = discretized(rounded, conn)
        w, q_nearest = discretized(plain, conn)
        # on the grid (a grid step is about 1e-2 of the largest weight), but for
        # the block's largest weight, kept to keep its scale
        assert np.sum(np.abs(q_rounded - w_rounded) > 1e-4 * np.abs(w).max()) <= 1
        for name, q in (("rounded", q_rounded), ("nearest", q_nearest)):
            error[name] += np.trace((q - w).T @ H @ (q - w))  # (pre x post)
    assert error["rounded"] < 0.1 * error["nearest"], error  # about 0.03


# -- several copies of a spiking memory, averaged -------------------------------


def test_copies_are_separate_loops_decoded_from_their_own_neurons(rng, allclose):
    """Each state variable's ensemble holds every copy; nengo's built
    recurrent weights connect each copy only to itself, with the decoders
    that LstsqL2 solves on that copy's neurons alone, and ``output`` is the
    mean of the copies' decoded states."""
    mem = LegendreMemory(0.5, 3, n_neurons=12, copies=2, seed=int(rng.randint(1000)),
                         loihi_calibration=False)
    assert len(mem.state_ensembles) == 3 and mem.n_neurons_total == 72
    ens = mem.state_ensembles[1]
    assert ens.dimensions == 2 and ens.n_neurons == 24
    assert np.array_equal(np.abs(ens.encoders), np.repeat(np.eye(2), 12, axis=0))
    with nengo.Simulator(mem, progress_bar=False) as sim:
        pass
    for conn in mem.recurrent_connections[:4]:
        pre, post = conn.pre_obj, conn.post_obj
        i, j = mem.state_ensembles.index(post), mem.state_ensembles.index(pre)
        built = sim.data[pre]
        rates = pre.neuron_type.rates(built.eval_points @ built.encoders.T / pre.radius,
                                      built.gain, built.bias)
        W = sim.data[conn].weights  # post neurons x pre neurons
        for c in range(2):
            own = slice(12 * c, 12 * c + 12)
            dec, _ = nengo.solvers.LstsqL2(reg=0.1)(rates[:, own], built.eval_points[:, c:c + 1])
            expected = sim.data[post].scaled_encoders[own, c:c + 1] * mem.A_rec[i, j] @ dec.T
            assert allclose(W[own, own], expected)
            other = slice(12 * (1 - c), 12 * (1 - c) + 12)
            assert np.all(W[own, other] == 0)
    out = [c for c in mem.all_connections if c.post_obj is mem.output]
    assert len(out) == 3 and np.allclose(out[0].transform.init, [[0.5, 0.5]])


@pytest.mark.parametrize("memory_type", [LegendreMemory, OscillatorMemory])
def test_copies_average_out_spike_noise(memory_type):
    """Two copies of 40 neurons follow the exact memory more closely than
    one copy of 40 (seed 3: NRMSE 0.25 against 0.37 for the Legendre
    memory, 0.38 against 0.56 for the oscillators)."""
    errors = []
    for copies in (1, 2):
        with nengo.Network(seed=0) as net:
            u = nengo.Node(nengo.processes.WhiteSignal(2.0, high=2, rms=0.3, seed=1))
            mem = memory_type(0.5, 6, n_neurons=40, copies=copies, seed=3)
            exact = memory_type(0.5, 6)
            nengo.Connection(u, mem.input, synapse=None)
            nengo.Connection(u, exact.input, synapse=None)
            p, pe = (nengo.Probe(m.output, synapse=0.01) for m in (mem, exact))
        with nengo.Simulator(net, progress_bar=False) as sim:
            sim.run(2.0)
        errors.append(np.sqrt(np.mean((sim.data[p] - sim.data[pe]) ** 2)
                              / np.mean(sim.data[pe] ** 2)))
    assert errors[0] < 0.7 and errors[1] < 0.8 * errors[0], errors


def test_copies_run_on_nengo_dl_and_the_loihi_emulator(allclose):
    """NengoDL gives nengo's spikes; nengo_loihi builds the copies for the
    chip (its calibration measured in the copies' layout) and they follow
    the exact memory."""
    u = nengo.processes.WhiteSignal(0.6, high=3, rms=0.4, seed=1).run_steps(600)
    with nengo.Network(seed=2) as net:
        stim = nengo.Node(nengo.processes.PresentInput(u, 0.001))
        mem = LegendreMemory(0.5, 3, n_neurons=40, copies=2, seed=2,
                             max_rates=nengo.dists.Uniform(200, 300))
        exact = LegendreMemory(0.5, 3)
        for m in (mem, exact):
            nengo.Connection(stim, m.input, synapse=None)
        p, pe = (nengo.Probe(m.output, synapse=0.02) for m in (mem, exact))
    with make_simulator(net, "nengo", progress_bar=False) as sim:
        sim.run_steps(600)
    with make_simulator(net, "dl", progress_bar=False) as sim_dl:
        sim_dl.run_steps(600)
    assert allclose(sim_dl.data[p], sim.data[p], atol=1e-4)
    with make_simulator(net, "loihi", progress_bar=False) as sim_loihi:
        sim_loihi.run_steps(600)
        # one block (core) per state variable, both copies in it
        assert sum(b.compartment.n_compartments == 80 for b in sim_loihi.model.blocks) == 3
    for data in (sim.data[p], sim_loihi.data[p]):
        err = np.sqrt(np.mean((data - sim.data[pe]) ** 2) / np.mean(sim.data[pe] ** 2))
        assert err < 0.3, err


def test_oscillator_copies_layout():
    """An oscillator's ensemble holds its two state variables once per copy."""
    mem = OscillatorMemory(0.5, 4, memory_d=2, n_neurons=5, copies=3, seed=0)
    assert len(mem.state_ensembles) == 4 and mem.state_ensembles[0].dimensions == 6
    var, copy = mem.ensemble_layout()
    assert np.array_equal(var[:8], [0, 1, 0, 1, 0, 1, 2, 3])
    assert np.array_equal(copy[:8], [0, 0, 1, 1, 2, 2, 0, 0])
    rec = mem.recurrent_connections[1]
    assert np.array_equal(rec.transform.init, np.kron(np.eye(3), mem.A_rec[2:4, 2:4]))


def test_copy_solver_bad_input():
    with pytest.raises(ValueError, match="compositional"):
        CopySolver(nengo.solvers.NnlsL2nz(weights=True), 2)
    with pytest.raises(ValueError, match="copies"):
        CopySolver(nengo.solvers.LstsqL2(), 0)
    with pytest.raises(ValueError, match="equal blocks"):
        CopySolver(nengo.solvers.LstsqL2(), 2)(np.ones((5, 3)), np.ones((5, 2)))


def test_loihi_stores_the_copies_weights_without_the_zeros_between_them(allclose):
    """nengo_loihi would store each recurrent synapse densely, zeros between
    copies included; stored as sparse rows it holds copies * n**2 weights
    instead of (copies * n)**2, and the emulator's spikes are the same."""
    from nengo_lmu import backends

    u = nengo.processes.WhiteSignal(0.5, high=3, rms=0.4, seed=1).run_steps(300)

    def run():
        with nengo.Network(seed=2) as net:
            stim = nengo.Node(nengo.processes.PresentInput(u, 0.001))
            # (the chip calibration's rounding would fill the zeros: not here)
            mem = LegendreMemory(0.5, 3, n_neurons=8, copies=3, seed=2,
                                 max_rates=nengo.dists.Uniform(200, 300),
                                 loihi_calibration=False)
            nengo.Connection(stim, mem.input, synapse=None)
            p = nengo.Probe(mem.output, synapse=0.02)
        with make_simulator(net, "loihi", progress_bar=False) as sim:
            sim.run_steps(300)
            sizes = [sim.model.objs[c]["weights"].size() for c in mem.recurrent_connections]
        return sim.data[p], sizes

    sparse, sparse_sizes = run()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(backends, "store_copies_sparsely", lambda *args: 0)
        dense, dense_sizes = run()
    assert dense_sizes == [24 * 24] * 9 and sparse_sizes == [3 * 8 * 8] * 9
    assert np.abs(dense).max() > 0.01
    assert np.array_equal(sparse, dense)
