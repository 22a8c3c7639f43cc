import math

import numpy as np
import pytest
import scipy.linalg

from nengo_lmu.systems import MEMORY_KINDS, OscillatorBank, memory_system, response_mapping
from nengo_lmu import (
    LegendreDelay,
    continuous_mapping,
    discrete_mapping,
    discretize,
    legendre_delay_matrices,
)


def paper_matrices(order):
    """A and B written out element by element, as in the paper."""
    A = np.zeros((order, order))
    B = np.zeros((order, 1))
    for i in range(order):
        B[i] = (2 * i + 1) * (-1) ** i
        for j in range(order):
            A[i, j] = (2 * i + 1) * (-1 if i < j else (-1) ** (i - j + 1))
    return A, B


def shifted_legendre(i, r):
    """The paper's shifted Legendre polynomial, from its explicit sum."""
    return (-1) ** i * sum(
        math.comb(i, j) * math.comb(i + j, j) * (-r) ** j for j in range(i + 1)
    )


@pytest.mark.parametrize("order", [1, 2, 6, 17])
def test_matrices_match_formula(order):
    A, B = legendre_delay_matrices(order)
    A0, B0 = paper_matrices(order)
    assert np.array_equal(A, A0)
    assert np.array_equal(B, B0)


def test_theta_folded_in():
    sys = LegendreDelay(theta=2.5, order=5)
    A0, B0 = paper_matrices(5)
    assert np.allclose(sys.A, A0 / 2.5)
    assert np.allclose(sys.B, B0 / 2.5)
    assert sys.order == 5 and sys.theta == 2.5


@pytest.mark.parametrize("order", [1, 4, 9])
def test_readout_is_shifted_legendre(order):
    sys = LegendreDelay(1.0, order)
    r = np.linspace(0, 1, 7)
    expected = np.array([[shifted_legendre(i, rk) for rk in r] for i in range(order)])
    assert sys.readout(r).shape == (order, len(r))
    assert np.allclose(sys.readout(r), expected)
    assert sys.readout(0.3).shape == (order,)
    assert np.allclose(sys.readout(0.3), [shifted_legendre(i, 0.3) for i in range(order)])


def test_readout_of_impulse_response_is_a_delay():
    """m @ readout(r), driven by an impulse, is a unit pulse centred at r*theta."""
    theta, dt = 1.0, 1e-3
    sys = LegendreDelay(theta, 24)
    H = sys.impulse_response(dt, 4000)
    t = np.arange(4000) * dt
    for r in [0.25, 0.5, 0.75, 1.0]:
        h = H @ sys.readout(r)
        assert np.isclose(h.sum(), 1.0, atol=1e-3)  # unit DC gain
        assert np.isclose((h * t).sum(), r * theta, atol=5 * dt)  # mean delay
        assert abs(t[np.argmax(h)] - r * theta) < 0.05 * theta  # pulse at r*theta


def test_impulse_response_matches_recursion():
    sys = LegendreDelay(10.0, 8)
    Ad, Bd = sys.discretize(1.0)
    H = sys.impulse_response(1.0, 37)
    x = Bd[:, 0].copy()
    for k in range(37):
        assert np.allclose(H[k], x, atol=1e-12)
        x = Ad @ x


def test_final_state_matches_recursion(rng, allclose):
    sys = LegendreDelay(10.0, 6)
    Ad, Bd = sys.discretize(1.0)
    u = rng.uniform(-1, 1, size=(3, 25))
    expected = []
    for row in u:
        m = np.zeros(6)
        for uk in row:
            m = Ad @ m + Bd[:, 0] * uk
        expected.append(m)
    assert allclose(sys.final_state(u, 1.0), expected, atol=1e-12)
    with pytest.raises(ValueError, match="u must have shape"):
        sys.final_state(u[0], 1.0)
    m32 = sys.final_state(u, 1.0, dtype=np.float32)
    assert m32.dtype == np.float32
    assert allclose(m32, expected, atol=1e-5)
    with pytest.raises(ValueError, match="dtype must be one of float64, float32"):
        sys.final_state(u, 1.0, dtype=np.int64)


def test_trajectory_matches_recursion(rng, allclose):
    sys = LegendreDelay(10.0, 5)
    Ad, Bd = sys.discretize(1.0)
    u = rng.uniform(-1, 1, size=30)
    m, expected = np.zeros(5), []
    for uk in u:
        m = Ad @ m + Bd[:, 0] * uk
        expected.append(m)
    assert allclose(sys.trajectory(u, 1.0), expected, atol=1e-12)
    with pytest.raises(ValueError, match="u must have shape"):
        sys.trajectory(u[None], 1.0)


def test_exact_memory_delays_noise(rng):
    """Convolving with the impulse response delays band-limited noise."""
    theta, dt, n = 1.0, 1e-3, 12000
    sys = LegendreDelay(theta, 12)
    spectrum = np.zeros(n // 2 + 1, dtype=complex)
    k_max = int(2.0 * n * dt)  # 2 Hz band limit
    spectrum[1:k_max] = rng.randn(k_max - 1) + 1j * rng.randn(k_max - 1)
    u = np.fft.irfft(spectrum, n)
    u *= 0.3 / np.sqrt(np.mean(u**2))
    H = sys.impulse_response(dt, n)
    m = np.stack([np.convolve(u, H[:, i])[:n] for i in range(12)], axis=1)
    for r in [0.0, 0.5, 1.0]:
        delay = int(round(r * theta / dt))
        target = np.roll(u, delay)[2000:]
        err = np.sqrt(np.mean((m[2000:] @ sys.readout(r) - target) ** 2))
        assert err / np.sqrt(np.mean(target**2)) < 0.01


def test_large_system_finite_and_stable():
    sys = LegendreDelay(theta=1e5, order=1024)
    assert np.all(np.isfinite(sys.A)) and np.all(np.isfinite(sys.B))
    for method in ("zoh", "euler"):
        Ad, Bd = sys.discretize(1.0, method=method)
        assert np.all(np.isfinite(Ad)) and np.all(np.isfinite(Bd))
        assert np.max(np.abs(np.linalg.eigvals(Ad))) < 1
    readout = sys.readout(np.linspace(0, 1, 11))
    assert np.all(np.isfinite(readout))
    assert np.allclose(np.abs(readout[:, [0, -1]]), 1)  # |P_i(+-1)| = 1
    H = sys.impulse_response(1.0, 3000)
    assert np.all(np.isfinite(H))


def test_zoh_and_euler_agree_for_small_dt():
    sys = LegendreDelay(1.0, 6)
    for dt in [1e-4, 1e-5]:
        Az, Bz = sys.discretize(dt, "zoh")
        Ae, Be = sys.discretize(dt, "euler")
        # the two differ at second order in dt
        assert np.max(np.abs(Az - Ae)) < 10 * (dt * np.linalg.norm(sys.A, 2)) ** 2
        assert np.max(np.abs(Bz - Be)) < 10 * dt**2 * np.linalg.norm(sys.A, 2) * np.linalg.norm(sys.B)


def test_zoh_is_matrix_exponential():
    sys = LegendreDelay(2.0, 5)
    dt = 0.01
    M = np.zeros((6, 6))
    M[:5, :5], M[:5, 5:] = sys.A, sys.B
    E = scipy.linalg.expm(M * dt)
    Ad, Bd = discretize(sys.A, sys.B, dt, "zoh")
    assert np.allclose(Ad, E[:5, :5]) and np.allclose(Bd, E[:5, 5:])


def test_discrete_mapping_is_exact(rng):
    """A lowpass synapse with the discrete mapping reproduces the ZOH system."""
    sys = LegendreDelay(1.0, 6)
    tau, dt = 0.1, 1e-3
    A_rec, B_in = discrete_mapping(sys.A, sys.B, tau, dt)
    Ad, Bd = sys.discretize(dt)
    a = np.exp(-dt / tau)
    x = y = np.zeros(6)
    for u in rng.randn(500):
        x = Ad @ x + Bd[:, 0] * u
        y = a * y + (1 - a) * (A_rec @ y + B_in[:, 0] * u)  # ZOH lowpass
    assert np.allclose(x, y, atol=1e-10)


def test_response_mapping_undoes_gain_and_lag(rng):
    """Populations whose decoded output is G (x - lag dx/dt) realise the ZOH
    system exactly with the adjusted mapping, and not with the plain one."""
    sys = LegendreDelay(1.0, 6)
    tau, dt, lag = 0.1, 1e-3, 0.003
    gains = np.array([0.99, 0.98, 0.97, 1.01, 0.95, 0.96])
    A0, B0 = discrete_mapping(sys.A, sys.B, tau, dt)
    Ad, Bd = sys.discretize(dt)
    a = np.exp(-dt / tau)

    def run(A_rec, B_in):
        x = y = np.zeros(6)
        for u in rng.randn(300):
            decoded = gains * (y - lag * (sys.A @ y + sys.B[:, 0] * u))
            x = Ad @ x + Bd[:, 0] * u
            y = a * y + (1 - a) * (A_rec @ decoded + B_in[:, 0] * u)
        return np.abs(y - x).max() / np.abs(x).max()

    assert run(*response_mapping(A0, B0, sys.A, sys.B, lag, gains)) < 1e-10
    assert run(A0, B0) > 1e-2
    same = response_mapping(A0, B0, sys.A, sys.B, 0.0, 1.0)
    assert np.allclose(same[0], A0, atol=1e-12) and np.allclose(same[1], B0, atol=1e-12)
    # a block-diagonal system keeps its blocks
    bank = OscillatorBank(1.0, 4)
    A_rec, _ = response_mapping(*bank.discrete_mapping(tau, dt), bank.A, bank.B, lag, gains[:4])
    assert np.all(A_rec[:2, 2:] == 0) and np.all(A_rec[2:, :2] == 0)
    for bad in (dict(lag=-1e-3, gains=1.0), dict(lag=0.0, gains=[1, 1, 0, 1, 1, 1])):
        with pytest.raises(ValueError, match="lag|gains"):
            response_mapping(A0, B0, sys.A, sys.B, **bad)


def test_continuous_mapping():
    sys = LegendreDelay(1.0, 4)
    A_rec, B_in = continuous_mapping(sys.A, sys.B, 0.05)
    assert np.allclose(A_rec, 0.05 * sys.A + np.eye(4))
    assert np.allclose(B_in, 0.05 * sys.B)
    # the discrete mapping tends to it as dt -> 0
    A_d, B_d = sys.discrete_mapping(0.05, 1e-6)
    assert np.allclose(A_d, A_rec, atol=1e-4) and np.allclose(B_d, B_in, atol=1e-4)


def test_state_rms_matches_simulation(rng):
    sys = LegendreDelay(1.0, 6)
    import nengo

    dt = 1e-3
    u = nengo.processes.WhiteSignal(200, high=1.0, rms=0.3).run(200, dt=dt, rng=rng)[:, 0]
    H = sys.impulse_response(dt, 3000)
    m = np.stack([np.convolve(u, H[:, i])[: len(u)] for i in range(6)], axis=1)[3000:]
    assert np.allclose(m.std(axis=0), sys.state_rms(1.0, 0.3), rtol=0.15)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(theta=0, order=4), "theta"),
        (dict(theta=-1.0, order=4), "theta"),
        (dict(theta=float("nan"), order=4), "theta"),
        (dict(theta=1.0, order=0), "order"),
        (dict(theta=1.0, order=2.5), "order"),
        (dict(theta=1.0, order="3"), "order"),
    ],
)
def test_bad_system_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        LegendreDelay(**kwargs)


def test_bad_method_arguments():
    sys = LegendreDelay(1.0, 4)
    with pytest.raises(ValueError, match=r"r must lie in \[0, 1\]"):
        sys.readout(1.5)
    with pytest.raises(ValueError, match=r"r must lie in \[0, 1\]"):
        sys.readout([0.2, -0.1])
    with pytest.raises(ValueError, match="method.*'zoh', 'euler'"):
        sys.discretize(0.1, method="bilinear")
    with pytest.raises(ValueError, match="dt"):
        sys.discretize(0.0)
    with pytest.raises(ValueError, match="dt"):
        sys.impulse_response(-1.0, 10)
    with pytest.raises(ValueError, match="n_steps"):
        sys.impulse_response(1e-3, 0)
    with pytest.raises(ValueError, match="tau"):
        sys.discrete_mapping(0.0, 1e-3)


# -- stability of the discretization (issue 14) ---------------------------------


def test_unstable_euler_refused():
    sys = LegendreDelay(784, 256)
    # 3.42 or 3.35, by LAPACK's rounding: Ad is far from normal
    radius = sys.spectral_radius(1.0, "euler")
    assert 3 < radius < 4
    with pytest.raises(ValueError) as info:
        sys.discretize(1.0, method="euler")
    msg = str(info.value)
    for part in ("theta=784", "order=256", "dt=1", "method='euler'", "spectral radius",
                 f"Ad is {radius:.6g} > 1", 'method="zoh"'):
        assert part in msg, (part, msg)
    with pytest.raises(ValueError, match="discretizer='euler'.*discretizer=\"zoh\""):
        sys.check_stability(1.0, "euler", name="discretizer")
    for method in ("impulse_response", "final_state"):  # every path discretizes
        with pytest.raises(ValueError, match="unstable"):
            args = (1.0, 10) if method == "impulse_response" else (np.zeros((1, 10)), 1.0)
            getattr(sys, method)(*args, method="euler")
    # a stable Euler discretization is unchanged
    Ad, _ = LegendreDelay(784, 64).discretize(1.0, "euler")
    assert np.max(np.abs(np.linalg.eigvals(Ad))) < 1


@pytest.mark.parametrize("theta, order", [(784, 256), (784, 1024), (1.0, 1024)])
def test_zoh_stable_at_any_order(theta, order):
    sys = LegendreDelay(theta, order)
    assert sys.spectral_radius(1.0, "zoh") < 1
    sys.check_stability(1.0, "zoh")
    Ad, _ = sys.discretize(1.0)
    assert np.max(np.abs(np.linalg.eigvals(Ad))) < 1


def test_generic_discretize_accepts_unstable_systems():
    """`discretize` takes any system (an unstable one discretizes unstable)."""
    Ad, _ = discretize(np.eye(2), np.ones((2, 1)), 0.1)
    assert np.allclose(Ad, np.exp(0.1) * np.eye(2))


# -- the oscillator bank (a block-diagonal memory) --------------------------------


def test_oscillator_bank_matrices():
    bank = OscillatorBank(784.0, 6, decay=2.0, frequency_scale=0.5)
    w = 0.5 * np.pi * np.arange(1, 4) / 784.0
    for b, (i, j) in enumerate(bank.blocks):
        assert np.allclose(bank.A[i:j + 1, i:j + 1], [[-2 / 784, -w[b]], [w[b], -2 / 784]])
        assert np.allclose(bank.B[i:j + 1, 0], [2 / 784, 0])
    # nothing outside the 2 x 2 blocks
    mask = np.kron(np.eye(3), np.ones((2, 2))).astype(bool)
    assert np.all(bank.A[~mask] == 0)
    assert bank.n_blocks == 3 and bank.kind == "oscillators"


@pytest.mark.parametrize("dt", [1.0, 0.37])
def test_oscillator_bank_zoh_matches_scipy(dt):
    """The closed-form ZOH equals scipy's (matrix exponential)."""
    bank = OscillatorBank(50.0, 10, frequency_scale=3.0)
    Ad, Bd = bank.discretize(dt)
    Ad0, Bd0 = discretize(bank.A, bank.B, dt)  # scipy.signal.cont2discrete
    assert np.allclose(Ad, Ad0, atol=1e-14) and np.allclose(Bd, Bd0, atol=1e-14)
    assert np.isclose(bank.spectral_radius(dt), np.max(np.abs(np.linalg.eigvals(Ad0))))


def test_oscillator_bank_impulse_response_and_final_state(rng, allclose):
    bank = OscillatorBank(784.0, 12)
    Ad, Bd = discretize(bank.A, bank.B, 1.0)
    H = bank.impulse_response(1.0, 784)
    x = Bd[:, 0].copy()
    for k in range(784):  # independent: the recursion with scipy's matrices
        assert np.allclose(H[k], x, atol=1e-14)
        x = Ad @ x
    u = rng.uniform(0, 1, size=(3, 784))
    m = np.zeros((3, 12))
    for k in range(784):
        m = m @ Ad.T + u[:, k:k + 1] @ Bd.T
    assert allclose(bank.final_state(u, 1.0), m, atol=1e-12)
    assert allclose(bank.trajectory(u[0], 1.0)[-1], m[0], atol=1e-12)
    # euler goes through the generic path
    assert np.allclose(bank.impulse_response(1.0, 3, method="euler")[1],
                       (np.eye(12) + bank.A) @ bank.B[:, 0])


def test_oscillator_bank_holds_damped_fourier_coefficients():
    """Driven by an impulse, oscillator n rings at pi * n / theta, decaying as exp(-t / theta)."""
    bank = OscillatorBank(100.0, 4)
    H = bank.impulse_response(0.01, 20000)
    t = np.arange(20000) * 0.01
    for n, (i, j) in enumerate(bank.blocks, start=1):
        phase = np.unwrap(np.arctan2(H[:, j], H[:, i]))
        assert np.allclose(np.diff(phase) / 0.01, np.pi * n / 100.0, rtol=1e-9)
        norm = np.hypot(H[:, i], H[:, j])
        assert np.allclose(norm / norm[0], np.exp(-t / 100.0), rtol=1e-9)


def test_memory_system_by_kind():
    assert isinstance(memory_system("legendre", 10.0, 5), LegendreDelay)
    assert isinstance(memory_system("oscillators", 10.0, 4), OscillatorBank)
    assert MEMORY_KINDS == ("legendre", "oscillators")
    with pytest.raises(ValueError, match="memory_kind must be one of"):
        memory_system("fourier", 10.0, 4)
    with pytest.raises(ValueError, match="order must be even"):
        OscillatorBank(10.0, 5)
    for name, kwargs in (("decay", dict(decay=0)), ("frequency_scale",
                                                     dict(frequency_scale=-1))):
        with pytest.raises(ValueError, match=name):
            OscillatorBank(10.0, 4, **kwargs)
    # Euler's I + A: the fastest of 32 oscillators makes it unstable
    bank = OscillatorBank(784.0, 64)
    w, lam = np.pi * 32 / 784, 1 / 784
    assert np.isclose(bank.spectral_radius(1.0, "euler"), np.hypot(1 - lam, w))
    with pytest.raises(ValueError, match="oscillator bank .* unstable"):
        bank.check_stability(1.0, "euler")
