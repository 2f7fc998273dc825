"""Figures and widgets of Chapter 06 build from the same functions and reject bad input."""

from __future__ import annotations

import pytest
import torch
from matplotlib.figure import Figure

from course_lib.flows import make_flow, toy, viz


def test_layer_by_layer_figure_and_widget():
    flow = make_flow("glow", 2, 2, hidden=8)
    flow.initialize(torch.randn(256, 2))
    for step in (0, len(flow.layers)):
        assert isinstance(viz.layer_by_layer_figure(flow, step, toy("ring"), n=200), Figure)
    widget = viz.layer_by_layer_widget(flow, n=100)
    slider = widget.children[0].children[0]
    before = widget.children[1].value
    slider.value = len(flow.layers)
    assert widget.children[1].value != before  # moving the slider redraws
    with pytest.raises(ValueError, match="step must be <="):
        viz.layer_by_layer_figure(flow, len(flow.layers) + 1)
    with pytest.raises(ValueError, match="2-D Flow"):
        viz.layer_by_layer_figure(make_flow("nice", 3, 1), 0)


def test_density_figure_and_explorer_use_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    fig = viz.density_figure("realnvp", "ring", 2, steps=20, n_eval=100, grid=20)
    assert isinstance(fig, Figure) and list(tmp_path.glob("flows-*.pt"))
    widget = viz.density_explorer_widget(steps=20, n_layers=2, n_eval=100)
    assert widget.children[1].value  # an image was drawn


def test_digits_samples_figure():
    flow = make_flow("realnvp", 64, 1, hidden=8)
    assert isinstance(viz.digits_samples_figure(flow, n=4), Figure)
    with pytest.raises(ValueError, match="64-dimensional"):
        viz.digits_samples_figure(make_flow("realnvp", 2, 1))
