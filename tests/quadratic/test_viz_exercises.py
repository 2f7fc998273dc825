"""Figures, widgets and exercises of Chapter 02."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from course_lib.checks import check
from course_lib.quadratic import viz
from course_lib.quadratic.exercises import EXERCISES


@pytest.mark.parametrize(
    "make",
    [
        lambda: viz.landscape_figure(),
        lambda: viz.landscape_figure(lam1=1.0, lam2=0.0, b1=0.5, b2=0.0),  # valley
        lambda: viz.landscape_figure(lam1=1.0, lam2=0.0, b1=0.0, b2=1.0),  # no stationary point
        lambda: viz.landscape_figure(lam1=1.0, lam2=-1.0),  # saddle
        lambda: viz.landscape_figure(lam1=0.0, lam2=0.0),  # constant
        lambda: viz.race_figure(n_steps=10),
        lambda: viz.race_figure("heavy ball", step_scale=0.5, momentum=0.5, kappa=30.0),
        lambda: viz.step_size_figure(),
    ],
)
def test_figures_are_labelled_figures(make):
    fig = make()
    assert isinstance(fig, Figure)
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel()


def test_landscape_title_names_the_kind():
    assert viz.landscape_figure(1.0, 0.0, 0.0, 0.0, 1.0).axes[0].get_title().startswith("none")
    assert viz.landscape_figure(-1.0, -2.0).axes[0].get_title().startswith("maximum")


def test_race_problem_has_the_stated_minimum_and_spectrum():
    form, x_star, _ = viz.race_problem(30.0)
    assert np.allclose(form.stationary_point().numpy(), x_star.numpy())
    assert np.allclose(np.linalg.eigvalsh(form.hessian().numpy()), [1.0, 30.0])


def test_widgets_redraw_when_a_control_moves():
    for widget, name in [(viz.landscape_widget(), "λ₂"), (viz.race_widget(), "momentum")]:
        controls, image = widget.children
        before = image.value
        slider = next(c for c in controls.children if c.description.startswith(name))
        slider.value = slider.value - 0.25 if name == "λ₂" else 0.5
        assert image.value != before and image.value[:4] == b"\x89PNG"


def test_figure_bad_input():
    with pytest.raises(ValueError, match="method must be one of"):
        viz.race_figure("adam")
    with pytest.raises(ValueError, match="step_scale must be"):
        viz.race_figure(step_scale=0.0)
    with pytest.raises(ValueError, match="kappa must be"):
        viz.race_problem(0.5)


def test_exercises_accept_the_reference_and_reject_wrong_answers():
    assert 4 <= len(EXERCISES.exercises) <= 6
    wrong = {
        "02.1": [[3.0, 4.0], [0.0, -1.0]],  # the raw coefficients, not symmetrised
        "02.2": 0.2,  # the convenient form's step: factor 2 off
        "02.3": [0.98, 0.9],
        "02.4": [1, -1],  # a line instead of a plane
        "02.5": lambda a, b, x: 2 * a @ x + b,  # 2ax + b: right only for symmetric a
        "02.6": 6,  # n, not the number of distinct eigenvalues
    }
    for ex in EXERCISES.exercises:
        assert not check(ex.id, wrong[ex.id]), ex.id
        assert not check(ex.id, None)
    assert check("02.5", lambda a, b, x: (a + a.T) @ x + b)
