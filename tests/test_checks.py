import numpy as np
import pytest
import torch

from course_lib import checks


def test_assert_within_se_passes_and_fails(capsys):
    checks.assert_within_se(1.02, 1.0, se=0.01, k=4)
    out = capsys.readouterr().out
    assert "exact 1" in out and "z = +2.00" in out
    with pytest.raises(AssertionError, match="standard errors"):
        checks.assert_within_se(1.05, 1.0, se=0.01, k=4)
    with pytest.raises(ValueError, match="se must be"):
        checks.assert_within_se(1.0, 1.0, se=0.0)


def test_standard_error_matches_formula():
    x = np.arange(10.0)
    assert checks.standard_error(x) == pytest.approx(x.std(ddof=1) / np.sqrt(10))
    with pytest.raises(ValueError):
        checks.standard_error([1.0])


def test_assert_close():
    checks.assert_close(torch.tensor([1.0, 2.0]), [1.0, 2.0 + 1e-13])
    with pytest.raises(AssertionError, match="differ"):
        checks.assert_close([1.0, 2.0], [1.0, 2.1], rtol=1e-3)
    with pytest.raises(AssertionError, match="shape"):
        checks.assert_close([1.0], [1.0, 2.0])


def test_assert_pmf_matches_detects_wrong_pmf():
    rng = np.random.default_rng(0)
    p = np.array([0.1, 0.2, 0.3, 0.4])
    counts = np.bincount(rng.choice(4, size=20_000, p=p), minlength=4)
    checks.assert_pmf_matches(counts, p)
    with pytest.raises(AssertionError):
        checks.assert_pmf_matches(counts, np.array([0.25, 0.25, 0.25, 0.25]))
    with pytest.raises(ValueError, match="sum to 1"):
        checks.assert_pmf_matches(counts, np.array([0.5, 0.5, 0.5, 0.5]))


def _toy_set():
    return checks.ExerciseSet(
        "99",
        [
            checks.Exercise("99.1", "Compute 2+2.", checks.numeric_answer(lambda: 4), hint="add"),
            checks.Exercise(
                "99.2",
                "Write square(x).",
                checks.function_answer(lambda x: x * x, [(0,), (3,), (-2.5,)]),
            ),
        ],
    )


def test_exercise_set_right_wrong_and_pending(capsys):
    ex = _toy_set()
    assert ex.check("99.1", 4)
    wrong = ex.check("99.1", 5)
    assert not wrong and "Hint: add" in wrong.message
    assert not ex.check("99.1", None)
    assert not ex.check("99.1", "four")
    assert checks.check("99.2", lambda x: x**2)
    bad = checks.check("99.2", lambda x: 2 * x)
    assert not bad and "for input" in bad.message
    assert not checks.check("99.2", lambda x: 1 / 0)  # an exception is reported, not raised
    assert "✅" in capsys.readouterr().out


def test_check_rejects_unknown_and_bad_ids():
    _toy_set()
    with pytest.raises(KeyError, match="unknown exercise"):
        checks.check("99.99", 1)
    with pytest.raises(TypeError):
        checks.check(1, 1)
    with pytest.raises(ValueError, match="must start with"):
        checks.ExerciseSet("98", [checks.Exercise("99.3", "x", checks.numeric_answer(lambda: 1))])


def test_check_discovers_chapter_exercises():
    # Chapter 01 registers its exercises on import; check() finds them lazily.
    assert "01.1" in {
        e.id
        for e in __import__(
            "course_lib.randomwalk.exercises", fromlist=["EXERCISES"]
        ).EXERCISES.exercises
    }
    assert not checks.check("01.1", None)


def test_figure_widget_redraws_and_rejects_empty_controls():
    import ipywidgets as widgets

    from course_lib.plotting import figure_widget, label_axes, new_figure

    def draw(a: int):
        fig, ax = new_figure()
        ax.plot([0, 1], [0, a])
        label_axes(ax, "x", "y")
        return fig

    slider = widgets.IntSlider(value=1, min=1, max=5)
    box = figure_widget(draw, {"a": slider})
    image = box.children[1]
    before = image.value
    slider.value = 3
    assert bytes(image.value) != bytes(before) and bytes(image.value)[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="at least one control"):
        figure_widget(draw, {})
