"""Chapter 06 exercises (06.1-06.5 in notebook 06a, 06.6-06.9 in 06b). References are
computed by the library, never hard-coded."""

from __future__ import annotations

import math

import torch

from ..checks import Exercise, ExerciseSet, float_answer, integer_answer
from ..diffusion import gaussian, mixture_velocity
from .cnf import divergence_exact, hutchinson_variance
from .data import dequantize
from .flow import jacobian_logdet, make_flow
from .layers import ActNorm, InvertibleConv1x1

__all__ = ["EXERCISES", "HUTCHINSON_MATRIX"]

#: The matrix of exercises 06.6, 06.7 and 06.9.
HUTCHINSON_MATRIX = ((2.0, 1.0, 0.0), (-1.0, 3.0, 2.0), (4.0, 0.0, 1.0))


def _coupling_logdet() -> float:
    def coupling(x: torch.Tensor) -> torch.Tensor:
        x1, x2 = x[:, 0], x[:, 1]
        s = torch.stack([torch.tanh(x1 + x2), torch.tanh(x1 - x2)], 1)
        return torch.cat([x[:, :2], x[:, 2:] * torch.exp(s) + 0.7], 1)

    x = torch.tensor([[0.4, -1.2, 1.0, 2.0]], dtype=torch.float64)
    return float(jacobian_logdet(coupling, x)[0])


def _identity_nll() -> float:
    with torch.no_grad():
        x = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
        return float(-make_flow("realnvp", 2, 4).double().log_prob(x))


def _invconv_logdet() -> float:
    W = torch.tensor([[2.0, 1.0], [0.5, 3.0]], dtype=torch.float64)
    layer = InvertibleConv1x1.from_weight(W).double()
    return float(layer(torch.zeros(1, 2, 4, 4, dtype=torch.float64))[1][0])


def _actnorm_logdet() -> float:
    z = torch.randn(64, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    z = (z - z.mean(0)) / z.std(0)  # exactly zero mean, unit std
    x = z * torch.tensor([2.0, 0.5, 4.0], dtype=torch.float64) + 1.0
    layer = ActNorm(3, eps=1e-12).double()
    return float(layer(x)[1][0])


def _digits_bound() -> float:
    _, log_vol = dequantize(torch.zeros(1, 64), 17, low=-2.0, high=2.0)
    return 60.0 - log_vol


def _hutchinson_var(kind: str) -> float:
    return hutchinson_variance(torch.tensor(HUTCHINSON_MATRIX), kind)


def _gaussian_flow_divergence() -> float:
    mix = gaussian(torch.zeros(2), 0.25 * torch.eye(2))
    x = torch.tensor([[0.3, -0.8]], dtype=torch.float64)
    return float(divergence_exact(lambda y, t: mixture_velocity(mix, y, t), x, 0.5)[1][0])


def _probes_needed() -> int:
    return math.ceil(_hutchinson_var("rademacher") / 0.1**2)


EXERCISES = ExerciseSet(
    "06",
    [
        Exercise(
            "06.1",
            "An affine coupling (3.1) on R^4 keeps x_a = (x_1, x_2) = (0.4, -1.2) and maps "
            "z_b = x_b * exp(s) + 0.7 with s = (tanh(x_1 + x_2), tanh(x_1 - x_2)), no clamp. "
            "What is log|det dz/dx| at this point (x_3, x_4 do not matter)?",
            _coupling_logdet,
            float_answer(4),
            inputs=(4, 0.4, -1.2, 0.7, 1, 2, 3),
            hints=(
                "The Jacobian is block triangular: which blocks lie on its diagonal?",
                "The diagonal is (1, 1, exp(s_1), exp(s_2)); the log-det is the sum of the logs.",
                "log|det| = tanh(x_1 + x_2) + tanh(x_1 - x_2).",
            ),
        ),
        Exercise(
            "06.2",
            "An untrained RealNVP flow on R^2 (zero-initialised couplings) is evaluated at "
            "x = (1.0, -2.0). What is its negative log-likelihood -log p(x) in nats?",
            _identity_nll,
            float_answer(5),
            inputs=(2, 1.0, -2.0),
            hints=(
                "What map does a coupling with a zero conditioner compute? Its log-det?",
                "The flow is the identity, so p is the base density N(0, I) in two dimensions.",
                "-log N(x; 0, I) = |x|^2 / 2 + (d/2) log(2 pi) with d = 2.",
            ),
        ),
        Exercise(
            "06.3",
            "A Glow 1x1 convolution with W = [[2, 1], [0.5, 3]] acts on a 2-channel 4x4 image. "
            "What log-det does it add per image?",
            _invconv_logdet,
            float_answer(5),
            inputs=(2, 1, 0.5, 3, 4, 16),
            hints=(
                "The same W acts at every pixel: the image's Jacobian is block diagonal.",
                "Each of the H*W pixels contributes log|det W|.",
                "log|det| = H W log|det W| with det W = 2*3 - 1*0.5.",
            ),
        ),
        Exercise(
            "06.4",
            "Actnorm is initialised on a batch whose three features have standard deviations "
            "(2, 0.5, 4). What log-det does it contribute per sample right after its "
            "data-dependent initialisation?",
            _actnorm_logdet,
            float_answer(5),
            inputs=(3, 2, 0.5, 4),
            hints=(
                "After the initialisation, what scale factor multiplies each feature?",
                "Feature c is divided by its standard deviation: g_c = -log std_c.",
                "log|det| = -(log 2 + log 0.5 + log 4).",
            ),
        ),
        Exercise(
            "06.5",
            "8x8 digits take 17 levels; dequantised to [-2, 2) as in (6.2), a flow reaches a "
            "continuous NLL of 60.0 nats per image. What upper bound on the discrete NLL "
            "(nats per image) does (6.2) give?",
            _digits_bound,
            float_answer(5),
            inputs=(8, 64, 17, -2, 2, 60.0),
            hints=(
                "Each of the 64 pixels' bins has width (high - low)/17 in the flow's coordinates.",
                "-log P(v) <= E[-log q(y)] - d log((high - low)/n_levels).",
                "Bound = 60 - 64 log(4/17).",
            ),
        ),
        Exercise(
            "06.6",
            "Hutchinson's estimator v^T A v with Rademacher probes v for A = [[2, 1, 0], "
            "[-1, 3, 2], [4, 0, 1]]: what is its variance? Derive it; do not simulate.",
            lambda: _hutchinson_var("rademacher"),
            float_answer(6),
            inputs=(2, 1, 0, -1, 3, 4),
            hints=(
                "v^T A v = v^T S v with S the symmetric part; v_i^2 = 1 removes the diagonal's "
                "randomness.",
                "The products v_i v_j (i < j) are uncorrelated with variance 1: "
                "Var = 4 sum_{i<j} S_ij^2.",
                "Var = sum over i != j of (A_ij^2 + A_ij A_ji).",
            ),
        ),
        Exercise(
            "06.7",
            "The same matrix as 06.6 with standard Gaussian probes: what is the variance of "
            "v^T A v?",
            lambda: _hutchinson_var("gaussian"),
            float_answer(6),
            inputs=(2, 1, 0, -1, 3, 4),
            hints=(
                "Rotate v into the eigenbasis of S: v^T S v = sum_k lambda_k w_k^2, w ~ N(0, I).",
                "Var(w^2) = 2 for a standard normal w, so Var = 2 sum_k lambda_k^2 = 2 ||S||_F^2.",
                "Var = ||A||_F^2 + tr(A^2).",
            ),
        ),
        Exercise(
            "06.8",
            "Data N(0, 0.25 I) in 2-D, path x_t = (1 - t) x_0 + t x_1 of Chapter 05. Derive the "
            "exact marginal velocity and give its divergence at t = 0.5 (any x).",
            _gaussian_flow_divergence,
            float_answer(5),
            inputs=(0, 0.25, 2, 1, 0.5),
            hints=(
                "x_t is Gaussian with standard deviation sigma_t = sqrt((1 - t)^2 c^2 + t^2); the "
                "velocity that keeps it so scales x linearly.",
                "v(x, t) = (d/dt log sigma_t) x, so div v = d * sigma_t' / sigma_t.",
                "div v = d (t - (1 - t) c^2) / ((1 - t)^2 c^2 + t^2) with c^2 = 0.25, d = 2.",
            ),
        ),
        Exercise(
            "06.9",
            "With Rademacher probes and the matrix of 06.6, how many independent probes must "
            "be averaged so that the standard error of the trace estimate is at most 0.1?",
            _probes_needed,
            integer_answer(),
            inputs=(0.1, 2, 1, 0, -1, 3, 4),
            hints=(
                "The average of n independent estimates has variance Var / n.",
                "Solve sqrt(Var / n) <= 0.1 for the smallest integer n.",
                "n = ceil(Var / 0.01), with Var from 06.6.",
            ),
        ),
    ],
)
