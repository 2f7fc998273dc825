"""Chapter 05: diffusion models (part 1: DDPM, DDIM, score matching and the SDE view).

Modules (each docstring carries its derivation and equation numbers):

* :mod:`.schedules` -- beta schedules (linear, cosine) and alpha_bar (1.1)-(1.5);
* :mod:`.forward`   -- q(x_t | x_0), the iterated chain, the posterior (1.3)-(1.7);
* :mod:`.losses`    -- Gaussian KL, ELBO terms, epsilon and denoising-score-matching losses (2.x);
* :mod:`.samplers`  -- DDPM, DDIM, inversion, Langevin, reverse SDE, PF-ODE (3.x, 4.x, 7.x);
* :mod:`.sde`       -- VP, sub-VP and VE SDEs (8.x);
* :mod:`.mixtures`  -- Gaussian mixtures with exact noised scores and denoisers (6.1)-(6.4);
* :mod:`.metrics`   -- MMD, sliced Wasserstein and the data floor (6.5)-(6.6);
* :mod:`.data`, :mod:`.nets`, :mod:`.training` -- toy data and digits, networks, cached training;
* :mod:`.viz`       -- widgets and static figures; :mod:`.exercises` -- the chapter's exercises;
* :mod:`.adapters`  -- an integer-timestep eps-model (diffusers' UNet convention) as D(x; sigma).

Part 2 (EDM, flow matching, rectified flow):

* :mod:`.edm`   -- the families x_t = s(t)(x_0 + sigma(t) eps), the PF-ODE, predictions,
  preconditioning, the rho schedule and the Euler/Heun/stochastic samplers (9.x);
* :mod:`.flow`  -- conditional paths, marginal velocity, flow-matching loss, reflow, straightness
  (10.x);
* :mod:`.edm_objectives`, :mod:`.flow_objectives` -- their training-registry entries;
* :mod:`.viz_edm`, :mod:`.viz_flow` -- part 2's widgets (:mod:`.exercises` holds the exercises
  of both parts).

Every model is a denoiser D(x; sigma) = E[x_0 | x_0 + sigma eps = x] (see :mod:`.samplers`).
"""

from . import (
    edm_objectives,  # noqa: F401  (registers EDM's network and objective)
    flow_objectives,  # noqa: F401  (registers flow matching's networks, data and objectives)
)
from .adapters import DiscreteEpsDenoiser, discrete_sigmas
from .data import digits_dataset, sample_toy, toy_distribution
from .edm import (
    EDM,
    VE,
    VP,
    EDMPrecond,
    Family,
    Flow,
    edm_loss,
    edm_sample,
    edm_sigmas,
    from_denoised,
    loss_weight,
    ode_derivative,
    precond_coefficients,
    stochastic_sample,
    to_denoised,
)
from .flow import (
    VelocityNet,
    cfm_loss,
    conditional_path,
    conditional_velocity,
    flow_euler_sample,
    flow_grid,
    mixture_velocity,
    reflow_pairs,
    straightness,
)
from .forward import (
    bayes_posterior_on_grid,
    eps_from_x0,
    iterate_chain,
    marginal_coefficients,
    posterior_coefficients,
    posterior_mean_var,
    q_sample,
    x0_from_eps,
)
from .losses import (
    dsm_loss,
    elbo_terms,
    elbo_weight,
    eps_loss,
    eps_prediction,
    gaussian_kl,
    gaussian_nll,
    sample_timesteps,
)
from .metrics import data_floor, median_distance, mmd, quality_table, sliced_wasserstein
from .mixtures import GaussianMixture, gaussian, ring_mixture, toy_mixture
from .nets import MLP, EpsDenoiser, SinusoidalEmbedding, TinyConvNet, noise_conditioning
from .samplers import (
    SampleResult,
    Trajectory,
    annealed_langevin,
    ddim_invert,
    ddim_sample,
    ddim_sigma,
    ddim_step,
    ddpm_sample,
    denoiser_from_score,
    eps_from_denoiser,
    geometric_sigmas,
    make_noise_sampler,
    pf_drift,
    pf_ode_euler,
    pf_ode_heun,
    reverse_sde_em,
    score_from_denoiser,
    time_grid,
)
from .schedules import (
    SPACINGS,
    Schedule,
    alpha_bar_from_betas,
    cosine_betas,
    linear_betas,
    make_schedule,
)
from .sde import SDE, VESDE, VPSDE, SubVPSDE, sde_time
from .training import (
    TrainConfig,
    TrainResult,
    build_model,
    cache_dir,
    cache_key,
    load_cached,
    train_denoiser,
)

__all__ = [
    "DiscreteEpsDenoiser",
    "EDM",
    "EDMPrecond",
    "EpsDenoiser",
    "Family",
    "Flow",
    "GaussianMixture",
    "MLP",
    "SDE",
    "SPACINGS",
    "SampleResult",
    "Schedule",
    "SinusoidalEmbedding",
    "SubVPSDE",
    "TinyConvNet",
    "TrainConfig",
    "TrainResult",
    "Trajectory",
    "VE",
    "VESDE",
    "VP",
    "VPSDE",
    "VelocityNet",
    "alpha_bar_from_betas",
    "annealed_langevin",
    "bayes_posterior_on_grid",
    "build_model",
    "cache_dir",
    "cache_key",
    "cfm_loss",
    "conditional_path",
    "conditional_velocity",
    "cosine_betas",
    "data_floor",
    "ddim_invert",
    "ddim_sample",
    "ddim_sigma",
    "ddim_step",
    "ddpm_sample",
    "denoiser_from_score",
    "digits_dataset",
    "discrete_sigmas",
    "dsm_loss",
    "edm_loss",
    "edm_sample",
    "edm_sigmas",
    "elbo_terms",
    "elbo_weight",
    "eps_from_denoiser",
    "eps_from_x0",
    "eps_loss",
    "eps_prediction",
    "flow_euler_sample",
    "flow_grid",
    "from_denoised",
    "gaussian",
    "gaussian_kl",
    "gaussian_nll",
    "geometric_sigmas",
    "iterate_chain",
    "linear_betas",
    "load_cached",
    "loss_weight",
    "make_noise_sampler",
    "make_schedule",
    "marginal_coefficients",
    "median_distance",
    "mixture_velocity",
    "mmd",
    "noise_conditioning",
    "ode_derivative",
    "pf_drift",
    "pf_ode_euler",
    "pf_ode_heun",
    "posterior_coefficients",
    "posterior_mean_var",
    "precond_coefficients",
    "q_sample",
    "quality_table",
    "reflow_pairs",
    "reverse_sde_em",
    "ring_mixture",
    "sample_timesteps",
    "sample_toy",
    "score_from_denoiser",
    "sde_time",
    "sliced_wasserstein",
    "stochastic_sample",
    "straightness",
    "time_grid",
    "to_denoised",
    "toy_distribution",
    "toy_mixture",
    "train_denoiser",
    "x0_from_eps",
]
