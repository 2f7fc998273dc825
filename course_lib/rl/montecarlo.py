"""Model-free Monte Carlo control (notebook 04b): values as means of sampled returns.

The return of an episode s_0, a_0, r_1, s_1, a_1, r_2, ... of length L from time t is

    G_t = sum_{k=0}^{L-t-1} gamma^k r_{t+k+1},   G_t = r_{t+1} + gamma G_{t+1}.        (4.1)

and q_pi(s, a) = E[G_t | s_t = s, a_t = a] is estimated by the mean of sampled returns
(Chapter 03's mean estimation). With a horizon H, G_t^H keeps only the first H rewards;
its mean is the H-step value q_pi^(H) exactly, with no truncation bias:

    G_t^H = sum_{k=0}^{H-1} gamma^k r_{t+k+1} = G_t - gamma^H G_{t+H}.                (4.2)

* MC Basic (4.3): policy iteration whose evaluation step is one batch of episodes of
  length L from every pair (s, a), q_k(s, a) = mean of G_0, then pi_{k+1} = greedy(q_k).
* MC Exploring Starts (4.4): episodes start from random pairs; every (first-visit) or
  every (every-visit) occurrence of a pair contributes its return; greedy improvement
  after each batch of episodes.
* MC epsilon-greedy (4.5): no exploring starts; the policy stays epsilon-soft,

    pi(a|s) = 1 - epsilon (|A| - 1)/|A| for the greedy action, epsilon/|A| otherwise.   (4.5)

Episodes are generated vectorised in torch: all episodes of a batch advance one step per
tensor operation, on any device, from an explicit ``torch.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..validation import check_flag, check_int, check_probability, check_real, resolve_device
from .gridworld import TabularMDP, check_mdp, check_policy, deterministic_policy
from .planning import greedy_actions

__all__ = [
    "Episodes",
    "MCEstimate",
    "MCResult",
    "mc_control",
    "discounted_returns",
    "epsilon_greedy_policy",
    "epsilon_soft_mdp",
    "first_visit_mask",
    "mc_basic",
    "mc_epsilon_greedy",
    "mc_evaluate",
    "mc_exploring_starts",
    "sample_episodes",
]


@dataclass(frozen=True)
class Episodes:
    """A batch of N episodes of length L: ``states[n, t]`` = s_t, ``actions[n, t]`` = a_t,
    ``rewards[n, t]`` = r_{t+1} (the reward that follows a_t)."""

    states: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor


@dataclass(frozen=True)
class MCEstimate:
    """Monte Carlo action values ``q`` (S, A), their standard errors ``se`` (NaN where a
    pair has fewer than 2 returns) and the number of returns ``counts`` per pair."""

    q: torch.Tensor
    se: torch.Tensor
    counts: torch.Tensor


@dataclass(frozen=True)
class MCResult:
    """Outcome of an MC control algorithm: action values ``q`` (S, A), the greedy actions
    (S,), the policy followed at the end (S, A) (epsilon-greedy for :func:`mc_epsilon_greedy`),
    the number of iterations (MC Basic) or episodes used, return counts per pair, and
    ``history``: the state values max_a q after each iteration or batch."""

    q: torch.Tensor
    actions: torch.Tensor
    policy: torch.Tensor
    iterations: int
    counts: torch.Tensor
    history: list[torch.Tensor] = field(default_factory=list)

    @property
    def v(self) -> torch.Tensor:
        """max_a q(s, a): the estimated state values of the greedy policy."""
        return self.q.max(dim=1).values


def epsilon_greedy_policy(actions: torch.Tensor, n_actions: int, epsilon: float) -> torch.Tensor:
    """The epsilon-greedy policy (4.5) around the deterministic ``actions`` (S,), as (S, A)."""
    epsilon = check_probability(epsilon, "epsilon")
    one_hot = deterministic_policy(actions, n_actions)
    # (4.5): 1 - eps (A-1)/A on the greedy action, eps/A on every other action
    return (1 - epsilon) * one_hot + epsilon / n_actions


def epsilon_soft_mdp(mdp: TabularMDP, epsilon: float) -> TabularMDP:
    """The MDP in which choosing action a means following the epsilon-greedy policy around a:
    P_eps(s, a) = (1 - eps) P(s, a) + eps mean_b P(s, b), likewise R. Its optimal
    deterministic policy, made epsilon-greedy, is the best epsilon-greedy policy of ``mdp``
    (the limit MC epsilon-greedy aims at), and its optimal values are that policy's values."""
    mdp = check_mdp(mdp)
    epsilon = check_probability(epsilon, "epsilon")
    P = (1 - epsilon) * mdp.P + epsilon * mdp.P.mean(dim=1, keepdim=True)
    R = (1 - epsilon) * mdp.R + epsilon * mdp.R.mean(dim=1, keepdim=True)
    return TabularMDP(P, R, mdp.gamma)


def _uniform(
    n: int, generator: torch.Generator | None, device: torch.device, dtype
) -> torch.Tensor:
    gen_device = generator.device if generator is not None else device
    return torch.rand(n, generator=generator, device=gen_device, dtype=dtype).to(device)


def _sample_rows(cdf: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Inverse-CDF sampling: the first index whose cumulative probability exceeds u."""
    idx = (cdf <= u.unsqueeze(1)).sum(dim=1)
    return idx.clamp_(max=cdf.shape[1] - 1)


def sample_episodes(
    mdp: TabularMDP,
    policy: torch.Tensor,
    n_episodes: int,
    length: int,
    *,
    start_states: torch.Tensor | None = None,
    start_actions: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> Episodes:
    """N episodes of ``length`` steps following ``policy`` (S, A), all at once.

    Start states are uniform unless ``start_states`` (N,) is given; the first action is
    drawn from the policy unless ``start_actions`` (N,) is given (exploring starts). The
    episodes live on the MDP's device; random numbers come from ``generator``.
    """
    mdp = check_mdp(mdp)
    pi = check_policy(policy, mdp)
    n = check_int(n_episodes, "n_episodes", minimum=1)
    L = check_int(length, "length", minimum=1)
    dev = mdp.P.device
    if generator is not None:
        resolve_device(None, generator)
    dtype = mdp.P.dtype
    S, A = mdp.n_states, mdp.n_actions
    if start_states is None:
        s = (_uniform(n, generator, dev, dtype) * S).long().clamp_(max=S - 1)
    else:
        s = _check_index(start_states, n, S, "start_states").to(dev)
    first = (
        None
        if start_actions is None
        else _check_index(start_actions, n, A, "start_actions").to(dev)
    )
    pi_cdf, p_cdf = pi.cumsum(dim=1), mdp.P.cumsum(dim=2)
    # deterministic dynamics (one-hot rows, as in the grid world): look s' up, draw nothing
    s_det = mdp.P.argmax(dim=2) if bool((mdp.P.amax(dim=2) == 1).all()) else None
    u_action = _uniform(n * L, generator, dev, dtype).reshape(L, n)
    u_next = None if s_det is not None else _uniform(n * L, generator, dev, dtype).reshape(L, n)
    states = torch.empty(n, L, dtype=torch.long, device=dev)
    actions = torch.empty_like(states)
    rewards = torch.empty(n, L, dtype=dtype, device=dev)
    for t in range(L):
        # region: vectorised-step
        a = _sample_rows(pi_cdf[s], u_action[t])  # a_t ~ pi(.|s_t), inverse CDF
        if t == 0 and first is not None:
            a = first  # exploring start: the first action is given
        states[:, t], actions[:, t], rewards[:, t] = s, a, mdp.R[s, a]  # r_{t+1} = R(s_t, a_t)
        if s_det is not None:
            s = s_det[s, a]  # s_{t+1}: the one successor
        else:
            s = _sample_rows(p_cdf[s, a], u_next[t])  # s_{t+1} ~ P(.|s_t, a_t)
        # endregion: vectorised-step
    return Episodes(states, actions, rewards)


def discounted_returns(
    rewards: torch.Tensor, gamma: float, horizon: int | None = None
) -> torch.Tensor:
    """G_t (4.1) for every t of every episode, shape (N, L); with ``horizon`` = H the
    truncated returns G_t^H (4.2)."""
    if (
        not isinstance(rewards, torch.Tensor)
        or rewards.dim() != 2
        or not rewards.is_floating_point()
    ):
        raise TypeError("rewards must be a floating tensor of shape (N, L)")
    gamma = check_real(gamma, "gamma", low=0.0, high=1.0)
    L = rewards.shape[1]
    H = L if horizon is None else check_int(horizon, "horizon", minimum=1)
    k = torch.arange(L, device=rewards.device)
    lag = k.unsqueeze(1) - k.unsqueeze(0)  # lag[j, t] = j - t: reward r_{j+1} seen from t
    # (4.1)/(4.2): G_t = sum_{j=t}^{t+H-1} gamma^(j-t) r_{j+1}, as one matrix product
    weight = torch.where((lag >= 0) & (lag < H), gamma ** lag.clamp(min=0).to(rewards.dtype), 0.0)
    return rewards @ weight


def first_visit_mask(states: torch.Tensor, actions: torch.Tensor, n_actions: int) -> torch.Tensor:
    """Boolean (N, L): True where (s_t, a_t) occurs for the first time in its episode."""
    pair = states * n_actions + actions
    N, L = pair.shape
    t = torch.arange(L, device=pair.device).expand(N, L)
    n_pairs = int(pair.max()) + 1 if pair.numel() else 1
    first = torch.full((N, n_pairs), L, dtype=torch.long, device=pair.device)
    first.scatter_reduce_(1, pair, t, reduce="amin")
    return first.gather(1, pair) == t


def _accumulate(
    episodes: Episodes, returns: torch.Tensor, use: torch.Tensor, n_pairs: int, n_actions: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sums of returns and counts per pair over the entries in ``use``."""
    pair = (episodes.states * n_actions + episodes.actions)[use]
    g = returns[use]
    total = torch.zeros(n_pairs, dtype=g.dtype, device=g.device).index_add_(0, pair, g)
    counts = torch.zeros_like(total).index_add_(0, pair, torch.ones_like(g))
    return total, counts


def mc_evaluate(
    mdp: TabularMDP,
    policy: torch.Tensor,
    n_episodes: int,
    length: int,
    *,
    horizon: int | None = None,
    first_visit: bool = True,
    generator: torch.Generator | None = None,
) -> MCEstimate:
    """Monte Carlo policy evaluation with exploring starts: episodes start from uniformly
    drawn pairs (s, a), then follow ``policy``; each first (or every) visit of a pair
    contributes its return. With ``horizon`` H, only visits at t <= L - H count and their
    returns are G_t^H (4.2), so ``q`` estimates the H-step values without truncation bias.
    First-visit returns of different episodes are independent, so ``se`` is honest for them."""
    mdp = check_mdp(mdp)
    first_visit = check_flag(first_visit, "first_visit")
    L = check_int(length, "length", minimum=1)
    if horizon is not None and check_int(horizon, "horizon", minimum=1) > L:
        raise ValueError(f"horizon must be <= length={L}, got {horizon}")
    n = check_int(n_episodes, "n_episodes", minimum=1)
    S, A = mdp.n_states, mdp.n_actions
    pairs = (_uniform(n, generator, mdp.P.device, mdp.P.dtype) * S * A).long().clamp_(max=S * A - 1)
    ep = sample_episodes(
        mdp, policy, n, L, start_states=pairs // A, start_actions=pairs % A, generator=generator
    )
    returns = discounted_returns(ep.rewards, mdp.gamma, horizon)
    use = (
        first_visit_mask(ep.states, ep.actions, A)
        if first_visit
        else torch.ones_like(ep.states, dtype=torch.bool)
    )
    if horizon is not None:
        use[:, L - horizon + 1 :] = False
    total, counts = _accumulate(ep, returns, use, S * A, A)
    q = total / counts.clamp(min=1)
    # sample variance per pair from deviations about the pair's mean (two passes: stable)
    pair = (ep.states * A + ep.actions)[use]
    dev2 = (returns[use] - q[pair]) ** 2
    var = torch.zeros_like(q).index_add_(0, pair, dev2) / (counts - 1).clamp(min=1)
    se = torch.where(counts >= 2, (var / counts.clamp(min=1)).sqrt(), float("nan"))
    return MCEstimate(q.reshape(S, A), se.reshape(S, A), counts.reshape(S, A))


def mc_basic(
    mdp: TabularMDP,
    length: int,
    *,
    max_iterations: int = 100,
    episodes_per_pair: int = 1,
    policy0: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> MCResult:
    """MC Basic (4.3): policy iteration whose evaluation is the mean return G_0 of
    ``episodes_per_pair`` episodes of ``length`` steps from every pair (s, a). Stops when
    the greedy policy no longer changes. ``policy0`` (S,) defaults to "stay" everywhere.
    With deterministic dynamics and policies one episode per pair gives the exact L-step
    action values of the current policy."""
    mdp = check_mdp(mdp)
    S, A = mdp.n_states, mdp.n_actions
    m = check_int(episodes_per_pair, "episodes_per_pair", minimum=1)
    dev = mdp.P.device
    actions = (
        torch.full((S,), A - 1, dtype=torch.long, device=dev)
        if policy0 is None
        else _check_index(policy0, S, A, "policy0").to(dev)
    )
    pairs = torch.arange(S * A, device=dev).repeat(m)
    history: list[torch.Tensor] = []
    for _ in range(check_int(max_iterations, "max_iterations", minimum=1)):
        # region: mc-basic
        ep = sample_episodes(
            mdp,
            actions,
            pairs.numel(),
            length,
            start_states=pairs // A,
            start_actions=pairs % A,
            generator=generator,
        )
        G0 = discounted_returns(ep.rewards, mdp.gamma)[:, 0]  # return of each episode (4.1)
        q = G0.reshape(m, S, A).mean(dim=0)  # (4.3) q_k(s, a): mean of sampled returns
        improved = greedy_actions(q, prefer=actions)  # (4.3) policy improvement
        # endregion: mc-basic
        history.append(q.max(dim=1).values)
        if torch.equal(improved, actions):
            break
        actions = improved
    k = len(history)
    counts = torch.full((S, A), float(m), dtype=mdp.P.dtype, device=dev)
    return MCResult(
        q, actions, deterministic_policy(actions, A, dtype=mdp.P.dtype).to(dev), k, counts, history
    )


def mc_control(
    mdp: TabularMDP,
    n_episodes: int,
    length: int,
    *,
    epsilon: float,
    exploring: bool,
    first_visit: bool,
    batch_size: int,
    generator: torch.Generator | None = None,
) -> MCResult:
    """The loop shared by (4.4) and (4.5): batches of episodes (from random pairs when
    ``exploring``, else from uniform states), running means of first- or every-visit
    returns, greedy improvement after each batch; the policy followed is epsilon-greedy
    (4.5) around the greedy actions (epsilon = 0: greedy)."""
    epsilon = check_probability(epsilon, "epsilon")
    exploring = check_flag(exploring, "exploring")
    mdp = check_mdp(mdp)
    n_total = check_int(n_episodes, "n_episodes", minimum=1)
    L = check_int(length, "length", minimum=1)
    batch = check_int(batch_size, "batch_size", minimum=1)
    first_visit = check_flag(first_visit, "first_visit")
    S, A = mdp.n_states, mdp.n_actions
    dev, dtype = mdp.P.device, mdp.P.dtype
    total = torch.zeros(S * A, dtype=dtype, device=dev)
    counts = torch.zeros_like(total)
    actions = torch.full((S,), A - 1, dtype=torch.long, device=dev)
    history: list[torch.Tensor] = []
    done = 0
    while done < n_total:
        n = min(batch, n_total - done)
        policy = epsilon_greedy_policy(actions, A, epsilon).to(device=dev, dtype=dtype)
        if exploring:  # (4.4) exploring starts: every pair can start an episode
            pairs = (_uniform(n, generator, dev, dtype) * S * A).long().clamp_(max=S * A - 1)
            ep = sample_episodes(
                mdp,
                policy,
                n,
                L,
                start_states=pairs // A,
                start_actions=pairs % A,
                generator=generator,
            )
        else:
            ep = sample_episodes(mdp, policy, n, L, generator=generator)
        # region: mc-control
        returns = discounted_returns(ep.rewards, mdp.gamma)  # G_t for all t (4.1)
        use = (
            first_visit_mask(ep.states, ep.actions, A)
            if first_visit
            else torch.ones_like(ep.states, dtype=torch.bool)
        )
        batch_total, batch_counts = _accumulate(ep, returns, use, S * A, A)
        total += batch_total
        counts += batch_counts
        q = (total / counts.clamp(min=1)).reshape(S, A)  # running means of returns
        actions = greedy_actions(q, prefer=actions)  # improvement; epsilon-greedy via (4.5)
        # endregion: mc-control
        history.append(q.max(dim=1).values)
        done += n
    policy = epsilon_greedy_policy(actions, A, epsilon).to(device=dev, dtype=dtype)
    return MCResult(q, actions, policy, done, counts.reshape(S, A), history)


def mc_exploring_starts(
    mdp: TabularMDP,
    n_episodes: int,
    length: int,
    *,
    first_visit: bool = True,
    batch_size: int = 1_000,
    generator: torch.Generator | None = None,
) -> MCResult:
    """MC Exploring Starts (4.4): episodes from uniformly drawn pairs (s, a), first-visit
    (default) or every-visit means of returns, greedy improvement after each batch."""
    return mc_control(
        mdp,
        n_episodes,
        length,
        epsilon=0.0,
        exploring=True,
        first_visit=first_visit,
        batch_size=batch_size,
        generator=generator,
    )


def mc_epsilon_greedy(
    mdp: TabularMDP,
    epsilon: float,
    n_episodes: int,
    length: int,
    *,
    first_visit: bool = False,
    batch_size: int = 100,
    generator: torch.Generator | None = None,
) -> MCResult:
    """MC epsilon-greedy (4.5): episodes start from uniform states and follow the
    epsilon-greedy policy (no exploring starts); every-visit (default) means of returns;
    epsilon-greedy improvement after each batch. ``result.policy`` is epsilon-greedy."""
    epsilon = check_probability(epsilon, "epsilon")
    return mc_control(
        mdp,
        n_episodes,
        length,
        epsilon=epsilon,
        exploring=False,
        first_visit=first_visit,
        batch_size=batch_size,
        generator=generator,
    )


def _check_index(x: object, n: int, high: int, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.is_floating_point() or x.shape != (n,):
        raise ValueError(
            f"{name} must be an integer tensor of shape ({n},), got {getattr(x, 'shape', x)!r}"
        )
    if x.numel() and (x.min() < 0 or x.max() >= high):
        raise ValueError(f"{name} must lie in [0, {high - 1}]")
    return x.long()
