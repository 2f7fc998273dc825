"""Chapter 06: normalizing flows, from NICE to continuous flows and back to flow matching.

Modules (each docstring carries its derivation and equation numbers):

* :mod:`.layers`   -- invertible layers: NICE additive coupling and scaling, RealNVP affine
  coupling with a soft clamp, Glow actnorm and LU 1x1 convolution, permutations (1.1)-(5.1);
* :mod:`.flow`     -- :class:`Flow` (log_prob, sample), :func:`make_flow`, and the brute-force
  Jacobian log-det every layer is checked against (1.2)-(1.5);
* :mod:`.data`     -- the 2-D toys with exact densities and entropies; dequantisation (6.x);
* :mod:`.cnf`      -- continuous flows: exact and Hutchinson divergence, the augmented ODE,
  the CNF log-likelihood (7.x);
* :mod:`.training` -- maximum-likelihood and flow-matching training through Chapter 05's
  cached loop, held-out NLL (8.x);
* :mod:`.viz`      -- widgets and static figures; :mod:`.exercises` -- the chapter's exercises.
"""

from .cnf import (
    augmented_dynamics,
    cnf_log_likelihood,
    continuity_residual,
    divergence_exact,
    divergence_hutchinson,
    hutchinson_samples,
    hutchinson_variance,
    probe_like,
)
from .data import (
    DIGIT_LEVELS,
    TOYS,
    dequantize,
    digits_levels,
    grid_mixture,
    mixture_entropy,
    mixture_entropy_mc,
    toy,
)
from .flow import (
    FAMILIES,
    Flow,
    jacobian_logdet,
    logdet_timing,
    make_flow,
    standard_normal_log_prob,
)
from .layers import (
    ActNorm,
    AdditiveCoupling,
    AffineCoupling,
    Conditioner,
    FlowLayer,
    InvertibleConv1x1,
    Permutation,
    Scaling,
    soft_clamp,
)
from .training import FlowConfig, heldout_nll, model_log_prob, train_flow

__all__ = [
    "DIGIT_LEVELS",
    "FAMILIES",
    "TOYS",
    "ActNorm",
    "AdditiveCoupling",
    "AffineCoupling",
    "Conditioner",
    "Flow",
    "FlowConfig",
    "FlowLayer",
    "InvertibleConv1x1",
    "Permutation",
    "Scaling",
    "augmented_dynamics",
    "cnf_log_likelihood",
    "continuity_residual",
    "dequantize",
    "digits_levels",
    "divergence_exact",
    "divergence_hutchinson",
    "grid_mixture",
    "heldout_nll",
    "hutchinson_samples",
    "hutchinson_variance",
    "jacobian_logdet",
    "logdet_timing",
    "make_flow",
    "mixture_entropy",
    "mixture_entropy_mc",
    "model_log_prob",
    "probe_like",
    "soft_clamp",
    "standard_normal_log_prob",
    "toy",
    "train_flow",
]
