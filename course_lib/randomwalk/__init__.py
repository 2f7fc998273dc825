"""Chapter 01: random walks and generating functions.

Modules (each docstring carries its derivation and equation numbers):

* :mod:`.walks`     -- simulation of the +-1 walk, the binomial law of S_n (1.1)-(1.2);
* :mod:`.genfun`    -- generating functions phi, U, F, Phi and their coefficients (2.x-4.x);
* :mod:`.paths`     -- first return / first passage times, path counting, reflection (5.x);
* :mod:`.ruin`      -- gambler's ruin, closed form and simulation (6.x);
* :mod:`.scaling_limit` -- the diffusion (scaling) limit and the heat equation (7.x);
* :mod:`.lattice`   -- walks on Z^d, the renewal equation in any dimension, Polya's theorem (8.x);
* :mod:`.viz`       -- widgets and static figures; :mod:`.exercises` -- the chapter's exercises.
"""

from .genfun import (
    arcsine_cdf,
    catalan,
    endpoint_pgf,
    endpoint_pgf_coefficients,
    ever_return_probability,
    first_passage_pgf,
    first_passage_pmf,
    first_return_pgf,
    first_return_probabilities,
    hitting_time_pmf,
    last_return_pmf,
    renewal_convolution,
    return_pgf,
    return_probabilities,
    series_coefficients,
    step_pgf,
    truncated_mean_return_time,
)
from .lattice import (
    first_returns_from_returns,
    lattice_return_probabilities,
    sample_lattice_first_returns,
    watson_return_sum,
)
from .paths import (
    ballot_count,
    enumerate_paths,
    first_hitting_times,
    first_return_times,
    path_count,
    reflected_path_count,
)
from .ruin import expected_duration, simulate_ruin, win_probability
from .scaling_limit import (
    diffusion_coefficient,
    heat_equation_residual,
    heat_kernel,
    lattice_density,
    master_equation_step,
    master_equation_variance,
    rescaled_paths,
)
from .walks import endpoint_mean_var, endpoint_pmf, sample_endpoints, sample_paths, sample_steps

__all__ = [
    "arcsine_cdf",
    "ballot_count",
    "catalan",
    "diffusion_coefficient",
    "endpoint_mean_var",
    "endpoint_pgf",
    "endpoint_pgf_coefficients",
    "endpoint_pmf",
    "enumerate_paths",
    "ever_return_probability",
    "expected_duration",
    "first_hitting_times",
    "first_passage_pgf",
    "first_passage_pmf",
    "first_return_pgf",
    "first_return_probabilities",
    "first_return_times",
    "first_returns_from_returns",
    "heat_equation_residual",
    "heat_kernel",
    "hitting_time_pmf",
    "last_return_pmf",
    "lattice_density",
    "lattice_return_probabilities",
    "master_equation_step",
    "master_equation_variance",
    "path_count",
    "reflected_path_count",
    "renewal_convolution",
    "rescaled_paths",
    "return_pgf",
    "return_probabilities",
    "sample_endpoints",
    "sample_lattice_first_returns",
    "sample_paths",
    "sample_steps",
    "series_coefficients",
    "simulate_ruin",
    "step_pgf",
    "truncated_mean_return_time",
    "watson_return_sum",
    "win_probability",
]
