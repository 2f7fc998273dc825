"""Part 2 widgets/figures and exercises 05.9-05.15."""

from __future__ import annotations

import math

import pytest
import torch
from matplotlib.figure import Figure

from course_lib.checks import check
from course_lib.diffusion import viz_edm, viz_flow
from course_lib.diffusion.exercises import EXERCISES


@pytest.mark.parametrize("family", ["VP", "VE", "flow", "EDM"])
def test_family_figure(family):
    assert isinstance(viz_edm.family_figure(family, 6, n_traj=4), Figure)


def test_sampler_lab_and_flow_figures():
    assert isinstance(viz_edm.sampler_lab_figure("euler", 4, 3.0, n=200), Figure)
    assert isinstance(viz_edm.sampler_lab_figure("heun", 4, 7.0, 20.0, n=200), Figure)
    assert isinstance(viz_flow.flow_steps_figure(2, n=200), Figure)


def test_viz_bad_inputs():
    with pytest.raises(ValueError, match="family"):
        viz_edm.family_figure("DDPM")
    with pytest.raises(ValueError, match="solver"):
        viz_edm.sampler_lab_figure("rk4")
    with pytest.raises(ValueError, match="heun"):
        viz_edm.sampler_lab_figure("euler", 4, 7.0, 10.0, n=100)
    with pytest.raises(ValueError, match="model"):
        viz_flow.flow_steps_figure(1, "reflow")
    with pytest.raises(TypeError):
        viz_flow.flow_steps_figure(1.5)


def test_widgets_build():
    widgets = (
        viz_edm.family_widget(4),
        viz_edm.sampler_lab_widget(n=100),
        viz_flow.flow_steps_widget(n=100),
    )
    for w in widgets:
        assert w.children  # controls and the image


def test_exercise_ids_and_checker():
    ids = [ex.id for ex in EXERCISES.exercises]
    assert ids[8:] == [f"05.{i}" for i in range(9, 16)]

    def eps_from_v(v, x, sigma):
        return (sigma * x + math.sqrt(1 + sigma**2) * v) / (1 + sigma**2)

    assert check("05.12", eps_from_v)
    assert not check("05.12", lambda v, x, sigma: v)  # the v itself is not eps
    assert not check("05.14", torch.zeros(2))
    assert not check("05.9", None)
