"""IO model, figures, widgets and exercises of Chapter 07."""

import pytest
from matplotlib.figure import Figure

from course_lib.attention import attention_flops, standard_io, tiled_block_sizes, tiled_io, viz
from course_lib.attention.exercises import EXERCISES
from course_lib.attention.io_model import tile_schedule, tiled_traffic_after
from course_lib.checks import check


def test_standard_io_counts():
    io = standard_io(1000, 64)
    assert io.reads == 3 * 1000 * 64 + 2 * 1000**2
    assert io.writes == 1000 * 64 + 2 * 1000**2
    assert io.bytes(2) == 2 * (4 * 1000 * 64 + 4 * 1000**2)


def test_tiled_io_scales_as_n2_d2_over_m():
    d, m = 64, 100_000
    a, b = tiled_io(8192, d, m).total, tiled_io(16384, d, m).total
    assert 3.8 < b / a < 4.2  # Theta(N^2): doubling N quadruples the traffic
    assert tiled_io(16384, d, m).total < standard_io(16384, d).total
    # while B_r < d (M < 4 d^2) the traffic is Theta(N^2 d^2 / M): doubling M halves it
    n = 16384
    small, large = tiled_io(n, d, 4 * d * 16).total, tiled_io(n, d, 4 * d * 32).total
    assert 1.9 < small / large < 2.1
    b_r, b_c = tiled_block_sizes(d, m)
    assert (b_r, b_c) == (64, 391) and 4 * d * b_c >= m


@pytest.mark.parametrize("causal", [False, True])
def test_traffic_replay_matches_closed_form(causal):
    n, d, block = 96, 16, 16
    schedule = tile_schedule(n, block, block, causal)
    last = tiled_traffic_after(n, d, block, block, len(schedule) - 1, causal)
    total = last.total + block * (d + 1)  # the last query block writes O and L at the end
    if not causal:
        assert total == tiled_io(n, d, 4 * d * block).total
    else:
        # causal: query block i streams i + 1 key blocks instead of all of them
        t = n // block
        assert last.reads == n * d + 2 * d * block * t * (t + 1) // 2


def test_io_errors():
    with pytest.raises(ValueError, match="at least 4 d"):
        tiled_block_sizes(64, 100)
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        standard_io(0, 4)
    with pytest.raises(TypeError, match="d must be an int, got float 4.0"):
        standard_io(8, 4.0)
    with pytest.raises(ValueError, match="step must be"):
        tiled_traffic_after(32, 4, 16, 16, 99)
    assert attention_flops(2, 10, 4, is_causal=True) == 2 * 10 * 10 * 4 * 2


@pytest.mark.parametrize(
    "make",
    [
        lambda: viz.online_softmax_figure(n=12, chunk=4, step=2),
        lambda: viz.tiling_figure(n=32, step=2, is_causal=True),
        lambda: viz.io_figure(ns=(256, 512)),
    ],
)
def test_figures(make):
    fig = make()
    assert isinstance(fig, Figure)
    assert all(ax.get_ylabel() for ax in fig.axes)


def test_widgets_redraw():
    for widget in (viz.online_softmax_widget(n=12, chunk=4), viz.tiling_widget(n=32)):
        controls, image = widget.children
        before = bytes(image.value)
        controls.children[0].value = controls.children[0].value + 1
        assert bytes(image.value) != before


def test_figure_bad_step():
    with pytest.raises(ValueError, match="step must be in"):
        viz.online_softmax_figure(n=12, chunk=4, step=9)
    with pytest.raises(ValueError, match="step must be"):
        viz.tiling_figure(n=32, step=1000)


def test_exercises_reject_wrong_answers():
    wrong = {
        "07.1": 4 * 4096 * 64 + 2 * 4096**2,
        "07.2": lambda m1, l1, m2, l2: (max(m1, m2), l1 + l2),
        "07.3": 1.0,
        "07.4": 8192 * 8192 * 4,
        "07.5": 64 * 4,
        "07.6": 4 * 32 * 2048**2 * 128,
    }
    assert 3 <= len(EXERCISES.exercises) <= 6
    for ex in EXERCISES.exercises:
        assert not check(ex.id, wrong[ex.id]), ex.id


def test_peak_memory_is_quadratic_for_standard_and_linear_for_tiled():
    import torch

    from course_lib.attention import standard_attention, tiled_attention_forward
    from course_lib.attention.memory import peak_tensor_bytes

    peaks = {}
    for n in (256, 512):
        q, k, v = (torch.randn(1, 2, n, 16) for _ in range(3))
        _, std = peak_tensor_bytes(standard_attention, q, k, v)
        _, tiled = peak_tensor_bytes(tiled_attention_forward, q, k, v, block_q=32, block_k=32)
        peaks[n] = (std, tiled)
        assert std >= 2 * (2 * n * n * 4)  # at least S and P (2 heads, fp32) alive together
    assert 3.8 < peaks[512][0] / peaks[256][0] < 4.2  # N^2
    assert 1.5 < peaks[512][1] / peaks[256][1] < 2.3  # N plus a per-block constant
    with pytest.raises(TypeError, match="callable"):
        peak_tensor_bytes(3)


def test_io_models_match_the_replay_of_both_loop_orders():
    from course_lib.attention import io_model_mismatches

    ms = (256, 300, 4 * 64 * 8, 4 * 64 * 64, 4 * 64 * 64 + 7, 100_000, 4 * 64 * 4096)
    assert io_model_mismatches(tiled_io, (1, 7, 100, 257, 4096), 64, ms) == []


def test_io_ranges_of_the_two_loop_orders():
    n, d = 4096, 64
    fa2 = {m: tiled_io(n, d, m, "fa2").total for m in (4 * d * d, 8 * d * d, 64 * d * d)}
    assert len(set(fa2.values())) == 1  # flat once B_r = d (M >= 4 d^2)
    assert abs(fa2[4 * d * d] / (2 * n * n) - 1) < 0.05  # about 2 N^2
    for order, blocks in (("fa2", (8, 16, 32)), ("fa1", (64, 128, 256))):
        t = [tiled_io(n, d, 4 * d * b, order).total for b in blocks]
        assert all(1.9 < a / b < 2.1 for a, b in zip(t, t[1:], strict=False)), (order, t)


def _wrong_fa2_floor(n, d, m, order):
    """Planted error: T_r = floor(N / B_r) (drops the ragged last query block)."""
    b_r, _ = tiled_block_sizes(d, m)
    io = tiled_io(n, d, m, order)
    return io if order == "fa1" else type(io)(n * d + 2 * n * d * (n // b_r), io.writes)


def _wrong_fa1_no_init(n, d, m, order):
    """Planted error: FA-1 order forgets the initial write of O, l, m."""
    io = tiled_io(n, d, m, order)
    return io if order == "fa2" else type(io)(io.reads, io.writes - n * (d + 2))


@pytest.mark.parametrize("model", [_wrong_fa2_floor, _wrong_fa1_no_init])
def test_replay_catches_planted_model_errors(model):
    from course_lib.attention import io_model_mismatches

    assert io_model_mismatches(model, (100, 257), 64, (300, 4 * 64 * 64)) != []


def test_an_off_by_one_in_the_replay_is_caught(monkeypatch):
    from course_lib.attention import io_model, io_model_mismatches

    honest = io_model.replay_tiled_io

    def off_by_one(n, d, block_q, block_k, loop_order="fa2", is_causal=False):
        return honest(n - 1, d, block_q, block_k, loop_order, is_causal)  # drops the last row

    monkeypatch.setattr(io_model, "replay_tiled_io", off_by_one)
    assert len(io_model_mismatches(tiled_io, (100,), 64, (300,))) == 2  # both loop orders


def test_causal_replay_agrees_with_the_tile_schedule():
    from course_lib.attention import replay_tiled_io

    n, d, block = 96, 16, 16
    schedule = tile_schedule(n, block, block, True)
    last = tiled_traffic_after(n, d, block, block, len(schedule) - 1, True)
    replay = replay_tiled_io(n, d, block, block, "fa2", is_causal=True)
    assert replay.reads == last.reads and replay.writes == last.writes + block * (d + 1)
    fa1 = replay_tiled_io(n, d, block, block, "fa1", is_causal=True)
    t = n // block  # FA-1 causal: key block j is seen by the t - j query blocks at or below it
    assert fa1.reads == 2 * n * d + block * (2 * d + 2) * t * (t + 1) // 2
    with pytest.raises(ValueError, match="loop_order must be one of"):
        replay_tiled_io(n, d, block, block, "fa3")


def test_io_memory_figure_and_widget_step_labels():
    fig = viz.io_memory_figure(n=256, d=16, ms=(64, 128, 1024, 4096))
    assert isinstance(fig, Figure) and fig.axes[0].get_xlabel()
    widget = viz.tiling_widget(n=32, block_q=16, block_k=16)
    slider = widget.children[0].children[0]
    assert (slider.min, slider.max) == (1, len(tile_schedule(32, 16, 16)))
    title = viz.tiling_figure(n=32, step=slider.value - 1).axes[0].get_title()
    assert title.startswith(f"step {slider.value}/")
