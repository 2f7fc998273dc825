"""The gymnasium wrapper against the tensor model; figures, widgets and exercises."""

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env
from matplotlib.figure import Figure

from course_lib.checks import check
from course_lib.rl import GridWorld, value_iteration, viz
from course_lib.rl.env import GridWorldEnv
from course_lib.rl.exercises import EXERCISES


def test_env_passes_gymnasium_check_env():
    env = GridWorldEnv()
    check_env(env, skip_render_check=True)
    assert (
        isinstance(env.observation_space, gymnasium.spaces.Discrete)
        and env.observation_space.n == 25
    )
    assert env.action_space.n == 5


@pytest.mark.parametrize("world", [GridWorld(), GridWorld(3, 4, [(1, 2)], (3, 4), r_other=-0.1)])
def test_env_matches_the_tensor_model_transition_by_transition(world):
    env, mdp = GridWorldEnv(world), world.model()
    for s in range(world.n_states):
        for a in range(world.n_actions):
            obs, _ = env.reset(options={"start": world.cell(s)})
            assert obs == s
            s2, r, terminated, truncated, info = env.step(a)
            assert mdp.P[s, a, s2] == 1 and r == float(mdp.R[s, a])
            assert not terminated and not truncated and info["cell"] == world.cell(s2)


def test_env_rollout_matches_the_model_and_is_seeded():
    world = GridWorld()
    mdp = world.model()
    env = GridWorldEnv(world, max_episode_steps=50, random_start=True)
    env.action_space.seed(3)
    obs, _ = env.reset(seed=123)
    first = obs
    for t in range(50):
        a = env.action_space.sample()
        s2, r, terminated, truncated, _ = env.step(a)
        assert mdp.P[obs, a, s2] == 1 and r == float(mdp.R[obs, a]) and not terminated
        assert truncated == (t == 49)
        obs = s2
    assert env.reset(seed=123)[0] == first
    assert {GridWorldEnv(random_start=True).reset(seed=k)[0] for k in range(40)} != {first}


def test_env_bad_input():
    env = GridWorldEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action must be an int in"):
        env.step(7)
    with pytest.raises(ValueError, match="not a cell"):
        env.reset(options={"start": (9, 9)})
    with pytest.raises(TypeError, match="world must be a GridWorld"):
        GridWorldEnv("grid")
    assert "T" in GridWorldEnv(render_mode="ansi").render()


@pytest.mark.parametrize(
    "make",
    [
        lambda: viz.grid_figure(GridWorld()),
        lambda: viz.optimal_policy_figure(gamma=0.5, r_forbidden=-10.0),
        lambda: viz.mc_epsilon_greedy_figure(epsilon=0.2, length=30, n_episodes=200),
        lambda: viz.value_propagation_figure(lengths=(1, 3)),
    ],
)
def test_figures_are_labelled_figures(make):
    fig = make()
    assert isinstance(fig, Figure)
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel()


def test_grid_figure_draws_values_and_arrows():
    world = GridWorld()
    vi = value_iteration(world.model())
    fig = viz.grid_figure(world, values=vi.v, actions=vi.actions)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "10.0" in texts and "5.8" in texts


def test_widgets_redraw_when_a_control_moves():
    for widget, name in [
        (viz.gridworld_editor_widget(), "gamma"),
        (viz.mc_lab_widget(n_episodes=100, length=20), "epsilon"),
    ]:
        image = widget.children[-1]
        before = image.value
        slider = next(
            c
            for box in widget.children[:-1]
            for c in _leaves(box)
            if getattr(c, "description", "").startswith(name)
        )
        slider.value = slider.value - 0.1 if name == "gamma" else 0.3
        assert image.value != before and image.value[:4] == b"\x89PNG"


def _leaves(box):
    children = getattr(box, "children", None)
    if children is None:
        return [box]
    return [leaf for c in children for leaf in _leaves(c)]


def test_editor_toggles_forbidden_cells():
    widget = viz.gridworld_editor_widget()
    image = widget.children[-1]
    before = image.value
    cell = next(c for c in _leaves(widget) if getattr(c, "description", "") == "cell")
    toggle = next(c for c in _leaves(widget) if getattr(c, "description", "") == "toggle forbidden")
    cell.value = "(1, 1)"
    toggle.click()
    assert image.value != before


def test_exercises_accept_their_reference():
    assert [ex.id for ex in EXERCISES.exercises] == [
        f"04.{k}" for k in range(1, len(EXERCISES.exercises) + 1)
    ]
    assert 8 <= len(EXERCISES.exercises) <= 12
    for ex in EXERCISES.exercises:
        answer = ex.reference if ex.kind == "function" else ex.expected()
        assert check(ex.id, answer)
