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
            checks.Exercise(
                "99.1",
                "Compute 17 + 25.",
                lambda: 17 + 25,
                checks.integer_answer(),
                inputs=(17, 25),
                hints=("add the two numbers", "use +"),
            ),
            checks.Exercise(
                "99.2",
                "Write square(x).",
                lambda x: x * x,
                checks.function_answer([(0.0,), (3.0,), (-2.5,)], "square(x) -> float"),
                hints=("multiply", "x times x"),
            ),
            checks.Exercise(
                "99.3",
                "Compute 1/3.",
                lambda: 1 / 3,
                checks.float_answer(3),
                inputs=(1, 3),
                hints=("divide", "1 / 3"),
            ),
        ],
    )


def test_exercise_set_right_wrong_and_pending(capsys):
    _toy_set()
    assert checks.check("99.1", 42) and checks.check("99.1", 42.0)
    wrong = checks.check("99.1", 43)
    assert not wrong and "off by one" in wrong.message and 'hint("99.1")' in wrong.message
    assert "42" not in wrong.message and "add the two" not in wrong.message  # no hint dump
    assert "not an integer" in checks.check("99.1", 41.5).message
    assert "numbers given in the question" in checks.check("99.1", 25).message
    assert "twice" in checks.check("99.1", 84).message
    assert not checks.check("99.1", None)
    assert not checks.check("99.1", "four")
    assert checks.check("99.2", lambda x: x**2)
    bad = checks.check("99.2", lambda x: 2 * x)
    assert not bad and "wrong value" in bad.message and "9.0" not in bad.message
    assert not checks.check("99.2", lambda x: 1 / 0)  # an exception is reported, not raised
    assert "sign is flipped" in checks.check("99.2", lambda x: -x * x).message
    assert checks.check("99.3", 0.333) and not checks.check("99.3", 0.33)
    msg = checks.check("99.3", 0.3).message
    assert "0.0" not in msg and "tolerance" not in msg and "off by" not in msg
    assert "✅" in capsys.readouterr().out


def test_hints_come_one_at_a_time(capsys):
    _toy_set()
    checks._HINTS_SHOWN.pop("99.1", None)
    checks.hint("99.1")
    first = capsys.readouterr().out
    assert "add the two numbers" in first and "use +" not in first
    checks.hint("99.1")
    checks.hint("99.1")
    assert capsys.readouterr().out.count("use +") == 2  # stays on the last hint
    checks.hint("99.1", 1)
    assert "add the two numbers" in capsys.readouterr().out
    with pytest.raises(ValueError, match="level"):
        checks.hint("99.1", 3)


def test_exercise_and_set_reject_bad_definitions():
    with pytest.raises(TypeError, match="answer must come from"):
        checks.Exercise("99.9", "q", lambda: 1, lambda a: (True, ""), hints=("a", "b"))
    with pytest.raises(ValueError, match="2 graded hints"):
        checks.Exercise("99.9", "q", lambda: 1, checks.integer_answer(), hints=("a",))
    with pytest.raises(ValueError, match="digits"):
        checks.float_answer(0)
    with pytest.raises(ValueError, match="cases"):
        checks.function_answer([], "f(x)")
    ex = checks.Exercise("99.9", "q", lambda: 1.5, checks.integer_answer(), hints=("a", "b"))
    with pytest.raises(RuntimeError, match="non-integer reference"):
        ex.compare(1)


def test_check_rejects_unknown_and_bad_ids():
    _toy_set()
    with pytest.raises(KeyError, match="unknown exercise"):
        checks.check("99.99", 1)
    with pytest.raises(TypeError):
        checks.check(1, 1)
    ex = checks.Exercise("99.3", "x", lambda: 1, checks.integer_answer(), hints=("a", "b"))
    with pytest.raises(ValueError, match="must start with"):
        checks.ExerciseSet("98", [ex])
    with pytest.raises(ValueError, match="unique"):
        checks.ExerciseSet("99", [ex, ex])


def test_check_discovers_chapter_exercises():
    # Chapter 01 registers its exercises on import; check() finds them lazily.
    from course_lib.randomwalk.exercises import EXERCISES

    assert "01.1" in {e.id for e in EXERCISES.exercises}
    assert not checks.check("01.1", None)
    assert {"01.1", "05.15", "07.6"} <= {e.id for e in checks.all_exercises()}


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


# ----------------------------------------------------------------------------------
# Lecture mode: one line per passing check, the same asserts as learner mode
# ----------------------------------------------------------------------------------
@pytest.fixture
def restore_mode(monkeypatch):
    """Each test starts from the env var's mode (unset) and leaves no override behind."""
    monkeypatch.delenv(checks.LECTURE_ENV_VAR, raising=False)
    monkeypatch.setattr(checks, "_lecture_override", None)
    yield monkeypatch


def _run_three_checks():
    rng = np.random.default_rng(1)
    p = np.array([0.2, 0.3, 0.5])
    checks.assert_within_se(1.02, 1.0, se=0.01, label="mean")
    checks.assert_close([1.0, 2.0], [1.0, 2.0 + 1e-13], label="pair")
    checks.assert_pmf_matches(np.bincount(rng.choice(3, 5000, p=p), minlength=3), p, label="hist")


def test_lecture_mode_prints_one_check_line_per_check(restore_mode, capsys):
    assert checks.lecture_mode() is False
    _run_three_checks()
    learner = capsys.readouterr().out.splitlines()
    assert len(learner) == 3 and not any(line.startswith("\u2713") for line in learner)
    assert "SE" in learner[0] and "tolerance" in learner[1] and "TV distance" in learner[2]

    assert checks.lecture_mode(True) is True
    _run_three_checks()
    lecture = capsys.readouterr().out.splitlines()
    assert lecture == [
        "\u2713 mean: 1.02 vs exact 1 (z = +2.0)",
        "\u2713 pair: max |difference| = 1e-13",
        lecture[2],
    ]
    assert lecture[2].startswith("\u2713 hist: max |z| = ") and lecture[2].endswith("over 3 bins")
    assert checks.lecture_mode(False) is False


def test_lecture_mode_keeps_the_asserts(restore_mode, capsys):
    for on in (False, True):
        checks.lecture_mode(on)
        with pytest.raises(AssertionError, match="standard errors"):
            checks.assert_within_se(1.05, 1.0, se=0.01, k=4)
        with pytest.raises(AssertionError, match="differ"):
            checks.assert_close([1.0, 2.0], [1.0, 2.1], rtol=1e-3)
        with pytest.raises(AssertionError, match="standard errors off"):
            checks.assert_pmf_matches(np.array([500, 500]), np.array([0.2, 0.8]))
        out = capsys.readouterr().out
        # a failed check never prints the tick; learner mode still shows its details
        assert "\u2713" not in out
        assert ("SE" in out) is (not on)


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("on", True), ("0", False), ("", False)]
)
def test_lecture_mode_from_environment(restore_mode, raw, expected):
    restore_mode.setenv(checks.LECTURE_ENV_VAR, raw)
    assert checks.lecture_mode() is expected
    checks.lecture_mode(not expected)  # the function wins over the variable
    assert checks.lecture_mode() is (not expected)


def test_lecture_mode_rejects_bad_values(restore_mode):
    restore_mode.setenv(checks.LECTURE_ENV_VAR, "loud")
    with pytest.raises(ValueError, match="COURSE_LECTURE must be one of"):
        checks.lecture_mode()
    with pytest.raises(TypeError, match="True, False or None"):
        checks.lecture_mode(1)
