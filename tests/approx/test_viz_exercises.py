"""Figures, widgets and exercises of Chapter 03."""

import math

import pytest
from matplotlib.figure import Figure

from course_lib.approx import viz
from course_lib.approx.exercises import EXERCISES
from course_lib.checks import check


@pytest.mark.parametrize(
    "make",
    [
        lambda: viz.rm_explorer_figure(n_runs=20, n_iter=50),
        lambda: viz.sgd_mean_figure(batch_size=4, n_iter=20, n_runs=10),
        lambda: viz.dvoretzky_figure(n_iter=50, n_runs=50),
        lambda: viz.ode_view_figure(n_iter=100),
    ],
)
def test_figures_are_labelled_figures(make):
    fig = make()
    assert isinstance(fig, Figure)
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel()


def test_widgets_redraw_when_a_control_moves():
    w = viz.rm_explorer_widget(n_runs=20)
    controls, image = w.children
    before = image.value
    noise = next(c for c in controls.children if c.description == "noise sd")
    noise.value = 1.0
    assert image.value != before and image.value[:4] == b"\x89PNG"
    w = viz.sgd_mean_widget(batch_size=2)
    controls, image = w.children
    before = image.value
    controls.children[0].value = 16
    assert image.value != before


def test_figure_bad_input():
    with pytest.raises(ValueError, match="problem must be one of"):
        viz.rm_explorer_figure(problem="cosine")
    with pytest.raises(ValueError, match="schedule must be one of"):
        viz.sgd_mean_figure(schedule="1/k^3")
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        viz.sgd_mean_figure(batch_size=0)


def test_exercises_accept_the_reference_and_reject_wrong_answers():
    assert 4 <= len(EXERCISES.exercises) <= 6

    def var_missing_m(k, a, m):  # forgot that a batch of m divides the noise variance
        return a**2 * (1 - (1 - a) ** (2 * k)) / (1 - (1 - a) ** 2)

    def var_closed(k, a, m):
        return a**2 / m * (1 - (1 - a) ** (2 * k)) / (1 - (1 - a) ** 2)

    wrong = {
        "03.1": 3 - math.tanh(2),  # one step only
        "03.2": [1, 1, 0, 0, 1],  # p = 1/2 taken as square-summable
        "03.3": [1.0, 1.0],
        "03.4": var_missing_m,
    }
    for ex in EXERCISES.exercises:
        assert not check(ex.id, wrong[ex.id]), ex.id
        assert not check(ex.id, None)
    assert check("03.4", var_closed)  # the closed form agrees with the recursion (5.6)
