"""Figures, widgets and exercises of Chapter 01."""

import pytest
from matplotlib.figure import Figure

from course_lib.checks import check
from course_lib.randomwalk import viz
from course_lib.randomwalk.exercises import EXERCISES


@pytest.mark.parametrize(
    "make",
    [
        lambda: viz.endpoint_histogram_figure(n=20, n_walks=500),
        lambda: viz.path_explorer_figure(n_steps=50, n_paths=3, n_hist=200),
        lambda: viz.ruin_figure(N=10),
        lambda: viz.diffusion_limit_figure(ns=(4, 8)),
    ],
)
def test_figures_are_labelled_figures(make):
    fig = make()
    assert isinstance(fig, Figure)
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel()


def test_widgets_redraw_when_a_control_moves():
    for widget, name in [
        (viz.endpoint_histogram_widget(n=20, n_walks=1000), "n"),
        (viz.path_explorer_widget(n_steps=40), "level"),
    ]:
        controls, image = widget.children
        before = image.value
        slider = next(c for c in controls.children if name in c.description.split())
        slider.value = slider.value + 1
        assert image.value != before and image.value[:4] == b"\x89PNG"


def test_figure_bad_input():
    with pytest.raises(ValueError, match="p must lie in"):
        viz.endpoint_histogram_figure(p=2.0)
    with pytest.raises(ValueError, match="level must be >= 1"):
        viz.path_explorer_figure(level=0)


def test_exercises_accept_the_reference_and_reject_wrong_answers():
    assert 3 <= len(EXERCISES.exercises) <= 6
    wrong = {
        "01.1": 0.2,
        "01.2": lambda n: 0.5**n,
        "01.3": 1.0,
        "01.4": 495,  # all paths to 4, forgetting the positivity constraint
        "01.5": 0.3,
        "01.6": 0.8,  # dx^2 / dt, forgetting the factor 2
    }
    for ex in EXERCISES.exercises:
        assert not check(ex.id, wrong[ex.id]), ex.id
        assert not check(ex.id, None)
