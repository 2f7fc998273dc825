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
* :mod:`.viz`       -- widgets and static figures; :mod:`.exercises` -- the chapter's exercises.

Every model is a denoiser D(x; sigma) = E[x_0 | x_0 + sigma eps = x] (see :mod:`.samplers`).
"""

from .data import digits_dataset, sample_toy, toy_distribution
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
    annealed_langevin,
    ddim_invert,
    ddim_sample,
    ddim_sigma,
    ddim_step,
    ddpm_sample,
    denoiser_from_score,
    eps_from_denoiser,
    geometric_sigmas,
    pf_ode_euler,
    pf_ode_heun,
    reverse_sde_em,
    score_from_denoiser,
    time_grid,
)
from .schedules import Schedule, alpha_bar_from_betas, cosine_betas, linear_betas, make_schedule
from .sde import SDE, VESDE, VPSDE, SubVPSDE
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
    "MLP",
    "SDE",
    "VESDE",
    "VPSDE",
    "EpsDenoiser",
    "GaussianMixture",
    "SampleResult",
    "Schedule",
    "SinusoidalEmbedding",
    "SubVPSDE",
    "TinyConvNet",
    "TrainConfig",
    "TrainResult",
    "alpha_bar_from_betas",
    "annealed_langevin",
    "bayes_posterior_on_grid",
    "build_model",
    "cache_dir",
    "cache_key",
    "cosine_betas",
    "data_floor",
    "ddim_invert",
    "ddim_sample",
    "ddim_sigma",
    "ddim_step",
    "ddpm_sample",
    "denoiser_from_score",
    "digits_dataset",
    "dsm_loss",
    "elbo_terms",
    "elbo_weight",
    "eps_from_denoiser",
    "eps_from_x0",
    "eps_loss",
    "eps_prediction",
    "gaussian",
    "gaussian_kl",
    "gaussian_nll",
    "geometric_sigmas",
    "iterate_chain",
    "linear_betas",
    "load_cached",
    "make_schedule",
    "marginal_coefficients",
    "median_distance",
    "mmd",
    "noise_conditioning",
    "pf_ode_euler",
    "pf_ode_heun",
    "posterior_coefficients",
    "posterior_mean_var",
    "q_sample",
    "quality_table",
    "reverse_sde_em",
    "ring_mixture",
    "sample_timesteps",
    "sample_toy",
    "score_from_denoiser",
    "sliced_wasserstein",
    "time_grid",
    "toy_distribution",
    "toy_mixture",
    "train_denoiser",
    "x0_from_eps",
]
