"""Linear systems behind the Legendre Memory Unit (numpy and scipy only).

The LMU memory is the Legendre delay system (Voelker, Kajić & Eliasmith 2019)::

    theta * dm/dt = A m + B u

whose ``order`` state variables hold the last ``theta`` seconds of a scalar
input ``u`` in shifted-Legendre coordinates. This module provides that system
as a small value (`LegendreDelay`), and a block-diagonal memory beside it
(`OscillatorBank`: damped oscillators, whose spiking realisation needs
recurrent weights only within each 2 x 2 block; both are a `MemorySystem`,
chosen by name with `memory_system`), with the operations the rest of the package
needs: discretization, Legendre readout of the delayed window, the impulse
response (for closed-form / parallel training), state trajectories, and the
two NEF principle-3 mappings that realise a linear system through a
first-order lowpass synapse.
"""

import numpy as np
import scipy.linalg
import scipy.signal
import scipy.special

from nengo_lmu.validation import check_choice, check_integer, check_positive

DISCRETIZERS = ("zoh", "euler")

#: How far above 1 the spectral radius of a discrete memory's ``Ad`` may be
#: (rounding) before the memory counts as unstable (`LegendreDelay.check_stability`).
STABILITY_TOLERANCE = 1e-9

#: Spectral radii of discretized Legendre systems already checked, by
#: ``(theta, order, dt, method)``: an eigenvalue problem of order 1024 takes
#: a second, and the same memory is discretized again and again.
_RADII = {}


def legendre_delay_matrices(order):
    """The paper's ``(A, B)`` of ``theta * dm/dt = A m + B u`` (theta = 1).

    ``A[i, j] = (2i + 1) * (-1 if i < j else (-1)**(i - j + 1))`` and
    ``B[i] = (2i + 1) * (-1)**i``, for ``i, j = 0 .. order - 1``.

    Returns
    -------
    A : ndarray, shape ``(order, order)``
    B : ndarray, shape ``(order, 1)``
    """
    order = check_integer("order", order)
    q = np.arange(order, dtype=np.float64)
    i, j = np.meshgrid(q, q, indexing="ij")
    scale = (2 * q + 1)[:, None]
    A = scale * np.where(i < j, -1.0, (-1.0) ** (i - j + 1))
    B = scale * ((-1.0) ** q)[:, None]
    return A, B


def discretize(A, B, dt, method="zoh"):
    """Discretize ``dx/dt = A x + B u`` with time step ``dt``.

    Parameters
    ----------
    A, B : array_like
        Continuous-time system matrices, shapes ``(n, n)`` and ``(n, k)``.
    dt : float
        Time step (> 0), in the same units as the system's time.
    method : {"zoh", "euler"}
        ``"zoh"`` (zero-order hold) is exact for piecewise-constant input;
        ``"euler"`` is ``(I + dt A, dt B)``, cheap to differentiate.

    Returns
    -------
    Ad, Bd : ndarray
        The discrete system ``x[k+1] = Ad x[k] + Bd u[k]``.

    Notes
    -----
    Any system is accepted, stable or not; `LegendreDelay.discretize`, which
    every memory of the package goes through, refuses an unstable result.
    """
    dt = check_positive("dt", dt)
    method = check_choice("method", method, DISCRETIZERS)
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    C = np.zeros((1, A.shape[0]))
    D = np.zeros((1, B.shape[1]))
    Ad, Bd, _, _, _ = scipy.signal.cont2discrete((A, B, C, D), dt, method=method)
    return Ad, Bd


def spectral_radius(M):
    """The largest absolute eigenvalue of the square matrix ``M``.

    A discrete system ``x[k+1] = M x[k] + ...`` is stable (its state stays
    bounded for bounded input) when this is below 1.
    """
    M = np.asarray(M, dtype=np.float64)
    return float(np.max(np.abs(np.linalg.eigvals(M)))) if M.size else 0.0


def check_spectral_radius(radius, what, fix):
    """Raise a `ValueError` if ``radius`` exceeds ``1 + STABILITY_TOLERANCE``.

    Parameters
    ----------
    radius : float
        Spectral radius of a discrete system's state matrix.
    what : str
        The system, its parameters and how it was discretized, for the message.
    fix : str
        What to do instead, for the message.
    """
    if not radius <= 1 + STABILITY_TOLERANCE:  # NaN too
        raise ValueError(
            f"{what} is unstable: the spectral radius of its discrete state matrix "
            f"Ad is {radius:.6g} > 1, so the memory grows without bound; {fix}"
        )


def continuous_mapping(A, B, tau):
    """NEF principle 3 for a continuous lowpass synapse of time constant ``tau``.

    A population whose recurrent transform is ``A_rec`` and input transform is
    ``B_in`` through the synapse ``1 / (tau s + 1)`` realises
    ``dx/dt = A x + B u`` when ``A_rec = tau A + I`` and ``B_in = tau B``.
    This is exact in continuous time; in a simulator with step ``dt`` it is
    accurate only when ``tau >> dt`` (see `discrete_mapping`).

    Returns
    -------
    A_rec, B_in : ndarray
    """
    tau = check_positive("tau", tau)
    A = np.asarray(A, dtype=np.float64)
    return tau * A + np.eye(A.shape[0]), tau * np.asarray(B, dtype=np.float64)


def discrete_mapping(A, B, tau, dt):
    """NEF principle 3, exact for a lowpass synapse simulated with step ``dt``.

    Voelker (2019), eq. 5.9: with ``a = exp(-dt / tau)`` and
    ``(Ad, Bd) = ZOH(A, B, dt)``, the transforms
    ``A_rec = (Ad - a I) / (1 - a)`` and ``B_in = Bd / (1 - a)`` make the
    discretized lowpass synapse reproduce the ZOH-discretized system exactly.

    Returns
    -------
    A_rec, B_in : ndarray
    """
    tau = check_positive("tau", tau)
    dt = check_positive("dt", dt)
    Ad, Bd = discretize(A, B, dt, method="zoh")
    a = np.exp(-dt / tau)
    return (Ad - a * np.eye(Ad.shape[0])) / (1 - a), Bd / (1 - a)


def response_mapping(A_rec, B_in, A, B, lag, gains):
    """A principle-3 mapping ``(A_rec, B_in)`` of ``dx/dt = A x + B u``
    adjusted for populations whose decoded output is ``G (x - lag dx/dt)``.

    ``G = diag(gains)``: the decoded state's gain in each state variable and
    its lag (s), both to first order in frequency (as
    `nengo_lmu.neurons.decoded_response` measures them). With ``dx/dt`` of
    the system the populations are to realise, the output is ``G (I - lag
    A) x - lag G B u``; the returned ``A_rec (I - lag A)^-1 G^-1`` and
    ``B_in + lag A_rec (I - lag A)^-1 B`` then give the loop the transforms
    of the given mapping, whichever it is (`discrete_mapping`,
    `continuous_mapping`). ``lag=0`` with unit gains returns the mapping
    unchanged (up to rounding); a block-diagonal ``A`` keeps ``A_rec``
    block-diagonal.

    Returns
    -------
    A_rec, B_in : ndarray
    """
    A_rec, B_in, A, B = (np.asarray(v, dtype=float) for v in (A_rec, B_in, A, B))
    gains = np.broadcast_to(np.asarray(gains, dtype=float), (A.shape[0],))
    if not np.all(np.isfinite(gains)) or np.any(gains <= 0):
        raise ValueError(f"gains must be finite and > 0, got {gains!r}")
    lag = float(lag)
    if not np.isfinite(lag) or lag < 0:
        raise ValueError(f"lag must be finite and >= 0 (s), got {lag!r}")
    shifted = np.linalg.solve((np.eye(A.shape[0]) - lag * A).T, A_rec.T).T
    return shifted / gains, B_in + lag * (shifted @ B)


class MemorySystem:
    """A linear memory ``dm/dt = A m + B u`` of one scalar input (the base of
    `LegendreDelay` and `OscillatorBank`).

    Holds what every memory of the package needs from its system:
    discretization with a stability check, the principle-3 mappings, the
    impulse response (closed-form / parallel training), the final state and
    the trajectory of input sequences, and the state's RMS for white noise.

    Parameters
    ----------
    theta : float
        Length of the remembered window, in seconds (in steps when ``dt = 1``).
    order : int
        Number of state variables.

    Attributes
    ----------
    A : ndarray, shape ``(order, order)``
        Continuous state matrix, theta folded in.
    B : ndarray, shape ``(order, 1)``
        Continuous input matrix, theta folded in.
    """

    #: The name of the memory kind (`MEMORY_KINDS`), in config.json's ``memory_kind``.
    kind = None

    def __init__(self, theta, order):
        self.theta = check_positive("theta", theta)
        self.order = check_integer("order", order)
        self.A, self.B = self._matrices()

    def _matrices(self):
        raise NotImplementedError

    def _describe(self):
        """The system and its parameters, for messages."""
        return f"the {self.kind} memory (theta={self.theta:g}, order={self.order})"

    def __repr__(self):
        return f"{type(self).__name__}(theta={self.theta!r}, order={self.order!r})"

    def discretize(self, dt, method="zoh"):
        """``(Ad, Bd)`` of ``m[k+1] = Ad m[k] + Bd u[k]``; see `discretize`.

        Raises
        ------
        ValueError
            If the discrete system is unstable (`check_stability`): for the
            Legendre system, Euler at a large ``order * dt / theta``, e.g.
            order 256 with ``theta = 784`` steps (spectral radius about 3.4,
            to LAPACK's rounding). ZOH is stable for every ``theta``,
            ``order`` and ``dt``.
        """
        Ad, Bd = discretize(self.A, self.B, dt, method=method)
        key = self._stability_key(dt, method)
        if key not in _RADII:
            self._remember_radius(key, spectral_radius(Ad))
        self._raise_if_unstable(key, "method")
        return Ad, Bd

    def _stability_key(self, dt, method):
        return (repr(self), check_positive("dt", dt),
                check_choice("method", method, DISCRETIZERS))

    @staticmethod
    def _remember_radius(key, radius):
        if len(_RADII) >= 256:
            _RADII.clear()
        _RADII[key] = radius

    def spectral_radius(self, dt, method="zoh"):
        """Spectral radius of ``Ad`` discretized with step ``dt`` by ``method``.

        Below 1 the memory is stable. ZOH's ``Ad = expm(A dt)`` is stable
        for every ``theta``, ``order`` and ``dt`` (the continuous system is);
        Euler's ``I + dt A`` is not once ``dt / theta`` times the largest
        eigenvalue of the paper's ``A`` exceeds about 2 (order 256 at
        ``theta = 784`` steps: 3.4). Cached per ``(theta, order, dt, method)``.
        """
        key = self._stability_key(dt, method)
        if key not in _RADII:
            Ad, _ = discretize(self.A, self.B, dt, method=method)
            self._remember_radius(key, spectral_radius(Ad))
        return _RADII[key]

    def check_stability(self, dt, method="zoh", name="method"):
        """Raise a `ValueError` if the discretized system is unstable.

        Unstable means a spectral radius of ``Ad`` (`spectral_radius`) above
        ``1 + STABILITY_TOLERANCE``; the message names ``theta``, ``order``,
        ``dt``, the method and the radius, and suggests ``"zoh"``.

        Parameters
        ----------
        dt : float
        method : {"zoh", "euler"}
        name : str
            The name of the method argument, for the message (``"method"``
            here, ``"discretizer"`` on the networks).
        """
        key = self._stability_key(dt, method)
        self.spectral_radius(dt, method)
        self._raise_if_unstable(key, name)

    def _raise_if_unstable(self, key, name):
        _, dt, method = key
        check_spectral_radius(
            _RADII[key],
            f"{self._describe()} discretized with {name}={method!r} at dt={dt:g}",
            f'use {name}="zoh" (stable for every theta, order and dt)' if method != "zoh"
            else "the matrix exponential lost its accuracy: use a smaller order",
        )

    def continuous_mapping(self, tau):
        """``(A_rec, B_in)`` through a lowpass ``tau``; see `continuous_mapping`."""
        return continuous_mapping(self.A, self.B, tau)

    def discrete_mapping(self, tau, dt):
        """``(A_rec, B_in)`` exact for step ``dt``; see `discrete_mapping`."""
        return discrete_mapping(self.A, self.B, tau, dt)

    def state_rms(self, freq, rms=1.0, n_freqs=2000):
        """RMS of each state variable driven by white noise up to ``freq``.

        For an input with a flat spectrum on ``[0, freq]`` (Hz, or cycles per
        step when theta is in steps) and RMS ``rms``, the state variance is
        ``rms**2 * mean_f |H_i(2 pi j f)|**2`` with ``H(s) = (sI - A)^-1 B``.
        This sizes the ensembles of a spiking memory (their ``radius``).

        Returns
        -------
        ndarray, shape ``(order,)``
        """
        freq = check_positive("freq", freq)
        rms = check_positive("rms", rms)
        f = (np.arange(n_freqs) + 0.5) * (freq / n_freqs)
        eye = np.eye(self.order)
        gains = np.stack(
            [np.linalg.solve(2j * np.pi * fk * eye - self.A, self.B[:, 0]) for fk in f]
        )
        return rms * np.sqrt(np.mean(np.abs(gains) ** 2, axis=0))

    def final_state(self, u, dt, method="zoh", dtype=np.float64):
        """The state after the last step of each input sequence, from rest.

        ``m_T = sum_k H[T-1-k] u[k]`` (`impulse_response`): one matrix
        product, no loop over time.

        Parameters
        ----------
        u : ndarray, shape ``(n, T)``
            ``n`` scalar input sequences.
        dt : float
            Step (s).
        method : {"zoh", "euler"}
            Discretization.
        dtype : {numpy.float64, numpy.float32}
            Precision of the product. float32 halves the memory and time of
            large batches (e.g. every epoch of augmented training images);
            the impulse response itself is always computed in float64.

        Returns
        -------
        ndarray, shape ``(n, order)``, of ``dtype``
        """
        dtype = np.dtype(dtype)
        if dtype not in (np.float64, np.float32):
            raise ValueError(f"dtype must be one of float64, float32, got {dtype}")
        u = np.asarray(u)
        if u.ndim != 2:
            raise ValueError(f"u must have shape (n, T), got {u.shape}")
        u = np.ascontiguousarray(u, dtype=dtype)
        # contiguous operands: the product goes to BLAS (a reversed view of
        # ``u`` does not, and is 10-100x slower for tens of thousands of rows)
        H = self.impulse_response(dt, u.shape[1], method=method)[::-1]
        return u @ np.ascontiguousarray(H, dtype=dtype)

    def trajectory(self, u, dt, method="zoh"):
        """The state after every step of a scalar input stream, from rest.

        ``m[k] = Ad m[k-1] + Bd u[k]``, the exact discrete memory.

        Parameters
        ----------
        u : ndarray, shape ``(n_steps,)``
        dt : float
            Step (s).
        method : {"zoh", "euler"}
            Discretization (`discretize`).

        Returns
        -------
        ndarray, shape ``(n_steps, order)``
        """
        u = np.asarray(u, dtype=float)
        if u.ndim != 1:
            raise ValueError(f"u must have shape (n_steps,), got {u.shape}")
        Ad, Bd = self.discretize(dt, method=method)
        # dlsim's output with C = Ad, D = Bd is the state after each step
        _, m, _ = scipy.signal.dlsim((Ad, Bd, Ad, Bd, dt), u[:, None])
        return m

    def impulse_response(self, dt, n_steps, method="zoh"):
        """Discrete impulse response ``H[k] = Ad^k Bd``, ``k = 0 .. n_steps-1``.

        The memory driven by ``u`` from rest is the convolution
        ``m[k] = sum_j H[k - j] u[j]`` (with ``m[k+1] = Ad m[k] + Bd u[k]``
        and ``m[0] = 0`` this is the state *after* step ``k``). Computed by
        doubling (``log2(n_steps)`` matrix products), so long windows cost
        no Python loop over time.

        Returns
        -------
        ndarray, shape ``(n_steps, order)``
        """
        n_steps = check_integer("n_steps", n_steps)
        Ad, Bd = self.discretize(dt, method=method)
        H = np.empty((int(n_steps), self.order))
        H[0] = Bd[:, 0]
        n = 1
        power = Ad  # Ad ** n
        while n < n_steps:
            m = min(n, n_steps - n)
            H[n : n + m] = H[:m] @ power.T
            n += m
            if n < n_steps:
                power = power @ power
        return H


def _check_even_order(order):
    order = check_integer("order", order)
    if order % 2:
        raise ValueError(f"order must be even for an oscillator bank (two state variables "
                         f"per oscillator), got {order}")
    return order


class LegendreDelay(MemorySystem):
    """The continuous-time Legendre delay system for a window ``theta``.

    ``dm/dt = A m + B u`` with ``A = A_paper / theta`` and ``B = B_paper /
    theta``; the state ``m`` (``order`` variables) represents the window
    ``u(t - r * theta)``, ``0 <= r <= 1``, in shifted Legendre coordinates.

    Parameters
    ----------
    theta : float
        Length of the window, in seconds (or in steps, when ``dt = 1``).
    order : int
        Number of Legendre coefficients (the state dimension, ``d``).

    Attributes
    ----------
    A : ndarray, shape ``(order, order)``
        Continuous state matrix, theta folded in.
    B : ndarray, shape ``(order, 1)``
        Continuous input matrix, theta folded in.
    """

    kind = "legendre"

    def _matrices(self):
        A, B = legendre_delay_matrices(self.order)
        return A / self.theta, B / self.theta

    def _describe(self):
        return f"the Legendre memory (theta={self.theta:g}, order={self.order})"

    def readout(self, r):
        """Decoders of the delayed input ``u(t - r * theta)`` from the state.

        Parameters
        ----------
        r : float or array_like
            Relative delay(s) in ``[0, 1]``: 0 is the current input, 1 the
            input ``theta`` ago.

        Returns
        -------
        ndarray
            Shape ``(order,)`` for scalar ``r``, ``(order, len(r))`` for an
            array, such that ``m @ readout(r) ~= u(t - r * theta)``. The
            entries are shifted Legendre polynomials ``P_i(2 r - 1)``.
        """
        r_arr = np.asarray(r, dtype=np.float64)
        if r_arr.ndim > 1:
            raise ValueError(f"r must be a scalar or a 1-D array, got shape {r_arr.shape}")
        if not np.all(np.isfinite(r_arr)) or np.any((r_arr < 0) | (r_arr > 1)):
            raise ValueError(f"r must lie in [0, 1], got {r!r}")
        i = np.arange(self.order)
        if r_arr.ndim == 0:
            return scipy.special.eval_legendre(i, 2 * r_arr - 1)
        return scipy.special.eval_legendre(i[:, None], 2 * r_arr[None, :] - 1)


class OscillatorBank(MemorySystem):
    """A bank of independent damped oscillators: a block-diagonal memory.

    ``order / 2`` oscillators; oscillator ``n`` (``n = 1 .. order / 2``)
    holds state variables ``2 (n - 1)`` and ``2 (n - 1) + 1`` with::

        A_n = [[-lam, -w_n], [w_n, -lam]],   B_n = [2 / theta, 0],
        lam = decay / theta,   w_n = frequency_scale * pi * n / theta

    (``decay / theta`` is the damping rate). Driven by ``u``, oscillator
    ``n`` holds ``2 / theta * integral u(t - s) exp(-decay s / theta)
    [cos(w_n s), sin(w_n s)] ds``: the window's damped Fourier coefficients
    at ``n / 2`` cycles per window (with ``frequency_scale = 1``). Like the
    Legendre state it is a linear projection of the past input, which is
    all a classifier reading the final state needs, but every oscillator is
    its own 2 x 2 system: a spiking realisation needs recurrent weights only
    within each block (``order / 2`` blocks of ``2 N`` neurons, ``(2N)**2``
    synapses each, against ``(order N)**2`` for the dense Legendre system),
    and the blocks are well conditioned at any order (the Legendre system's
    modal form is not). Its discretization and impulse response are exact,
    in closed form (`discretize`, `impulse_response`).

    Parameters
    ----------
    theta : float
        Length of the window, in seconds (or in steps, when ``dt = 1``).
    order : int
        Number of state variables, even: two per oscillator.
    decay : float
        Damping, in units of ``1 / theta`` (> 0): the state forgets with time
        constant ``theta / decay``.
    frequency_scale : float
        Oscillator ``n`` turns at ``frequency_scale * pi * n / theta`` rad per
        unit time (> 0); below 1 the bank is slower, which a spiking
        realisation follows more easily.
    """

    kind = "oscillators"

    def __init__(self, theta, order, decay=1.0, frequency_scale=1.0):
        self.decay = check_positive("decay", decay)
        self.frequency_scale = check_positive("frequency_scale", frequency_scale)
        _check_even_order(order)
        super().__init__(theta, order)

    def __repr__(self):
        return (f"OscillatorBank(theta={self.theta!r}, order={self.order!r}, "
                f"decay={self.decay!r}, frequency_scale={self.frequency_scale!r})")

    def _describe(self):
        return (f"the oscillator bank (theta={self.theta:g}, order={self.order}, "
                f"decay={self.decay:g}, frequency_scale={self.frequency_scale:g})")

    @property
    def n_blocks(self):
        """Number of oscillators (2 x 2 blocks of ``A``)."""
        return self.order // 2

    @property
    def frequencies(self):
        """Angular frequency of each oscillator (rad per unit time), ``(order / 2,)``."""
        n = np.arange(1, self.n_blocks + 1, dtype=np.float64)
        return self.frequency_scale * np.pi * n / self.theta

    @property
    def damping(self):
        """The damping rate ``decay / theta`` (per unit time)."""
        return self.decay / self.theta

    @property
    def blocks(self):
        """The state variables of each oscillator: ``[(0, 1), (2, 3), ...]``."""
        return [(2 * b, 2 * b + 1) for b in range(self.n_blocks)]

    def _matrices(self):
        w, lam = self.frequencies, self.damping
        A = scipy.linalg.block_diag(*[np.array([[-lam, -wk], [wk, -lam]]) for wk in w])
        B = np.zeros((self.order, 1))
        B[0::2, 0] = 2.0 / self.theta
        return A, B

    def _zoh_blocks(self, dt):
        """Each oscillator's ZOH ``Ad`` block (decayed rotation) and ``Bd``, in
        closed form: ``Ad = exp(-lam dt) R(w dt)``, ``Bd = A^-1 (Ad - I) B``."""
        w, lam = self.frequencies, self.damping
        r = np.exp(-lam * dt)
        c, s = r * np.cos(w * dt), r * np.sin(w * dt)
        # A^-1 of [[-lam, -w], [w, -lam]] is [[-lam, w], [-w, -lam]] / (lam^2 + w^2)
        b = 2.0 / self.theta / (lam**2 + w**2)
        bx, by = c - 1, s  # (Ad - I) e_1
        Bd = np.stack([b * (-lam * bx + w * by), b * (-w * bx - lam * by)], axis=1)
        return c, s, Bd

    def discretize(self, dt, method="zoh"):
        """``(Ad, Bd)`` of ``m[k+1] = Ad m[k] + Bd u[k]``; ZOH in closed form.

        ``"euler"`` (``I + dt A``, ``dt B``) is refused when unstable
        (`MemorySystem.check_stability`); ZOH is stable for every ``dt``.
        """
        dt = check_positive("dt", dt)
        method = check_choice("method", method, DISCRETIZERS)
        if method != "zoh":
            return super().discretize(dt, method)
        c, s, Bd = self._zoh_blocks(dt)
        Ad = scipy.linalg.block_diag(*[np.array([[ck, -sk], [sk, ck]])
                                       for ck, sk in zip(c, s)])
        return Ad, Bd.reshape(self.order, 1)

    def spectral_radius(self, dt, method="zoh"):
        """``exp(-decay dt / theta)`` for ZOH (closed form); see `MemorySystem`."""
        key = self._stability_key(dt, method)
        if method == "zoh" and key not in _RADII:
            self._remember_radius(key, float(np.exp(-self.damping * dt)))
        return super().spectral_radius(dt, method)

    def impulse_response(self, dt, n_steps, method="zoh"):
        """``H[k] = Ad^k Bd``, ``k = 0 .. n_steps - 1``; closed form for ZOH.

        ``Ad^k`` of an oscillator is ``exp(-lam k dt) R(k w dt)``: no matrix
        power.

        Returns
        -------
        ndarray, shape ``(n_steps, order)``
        """
        n_steps = check_integer("n_steps", n_steps)
        if check_choice("method", method, DISCRETIZERS) != "zoh":
            return super().impulse_response(dt, n_steps, method)
        dt = check_positive("dt", dt)
        _, _, Bd = self._zoh_blocks(dt)
        k = np.arange(n_steps, dtype=np.float64)[:, None]
        phase = k * (self.frequencies * dt)[None, :]
        r = np.exp(-self.damping * dt * k)
        cos, sin = r * np.cos(phase), r * np.sin(phase)
        H = np.empty((n_steps, self.order))
        H[:, 0::2] = cos * Bd[:, 0] - sin * Bd[:, 1]
        H[:, 1::2] = sin * Bd[:, 0] + cos * Bd[:, 1]
        return H


#: The memory systems by name (config.json's ``model.memory_kind``).
MEMORY_SYSTEMS = {"legendre": LegendreDelay, "oscillators": OscillatorBank}

#: The names of the memory kinds.
MEMORY_KINDS = tuple(MEMORY_SYSTEMS)


def memory_system(kind, theta, order):
    """The memory system of kind ``kind`` (`MEMORY_KINDS`): ``"legendre"``
    (`LegendreDelay`, the LMU's) or ``"oscillators"`` (`OscillatorBank`,
    block diagonal, ``order`` even)."""
    return MEMORY_SYSTEMS[check_choice("memory_kind", kind, MEMORY_KINDS)](theta, order)
