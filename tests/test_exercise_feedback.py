"""Every exercise of every chapter rejects plausible wrong answers without leaking the value.

The exercises are discovered, not listed: ``all_exercises()`` imports every
``course_lib.<chapter>.exercises`` module, so a new chapter's exercises are tested here
without editing this file. For each exercise the test feeds wrong answers a learner could
plausibly give (0, each number of the question, the reference with the sign flipped,
doubled, halved, off by one for integers; for function answers: constant functions,
-reference, 2 x reference, reference / 2), asserts that each is rejected, and asserts that
no feedback message and no hint contains the reference in any usual formatting. A wrong
answer candidate that happens to equal the reference is skipped, that one candidate only.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from course_lib import checks

EXERCISES = checks.all_exercises()
ROOT = Path(__file__).resolve().parents[1]


def test_enough_exercises_are_discovered():
    chapters = {ex.id.split(".")[0] for ex in EXERCISES}
    assert len(EXERCISES) >= 20, [ex.id for ex in EXERCISES]
    assert {"01", "05", "07"} <= chapters


def _formats(x: float) -> set[str]:
    """The ways a number is commonly printed."""
    x = float(x)
    out = {repr(x), str(x), f"{x:.3g}", f"{x:.4g}", f"{x:.6g}"}
    if x == round(x) and abs(x) < 2**53:
        out |= {str(int(x)), f"{int(x):,}", f"{int(x):_}"}
    return {s for s in out if s not in ("", "-")}


def _reference_values(ex: checks.Exercise) -> list[float]:
    if ex.kind == "function":
        outs = [np.asarray(ex.reference(*args), dtype=float).ravel() for args in ex.answer.cases]
        return [float(v) for v in np.concatenate(outs)]
    return [float(v) for v in np.asarray(ex.expected(), dtype=float).ravel()]


def _leak_patterns(ex: checks.Exercise) -> list[re.Pattern]:
    """Regexes for the reference values, as whole numbers (not digits inside other tokens).

    A value whose printed form already appears in the question is not a leak when a
    message repeats it (e.g. sigma_N = 0 in 05.9); those forms are left out, and the test
    asserts that something is left to check for every exercise.
    """
    question = ex.prompt
    forms = set()
    for v in _reference_values(ex):
        for s in _formats(v):
            if not re.search(_token(s), question):
                forms.add(s)
    return [re.compile(_token(s)) for s in sorted(forms)]  # "^2" is an exponent, not a value


def _token(s: str) -> str:
    return r"(?<![\w.^])" + re.escape(s) + r"(?![\w]|\.\d)"


def _wrong_values(ex: checks.Exercise) -> list[tuple[str, object]]:
    ref = np.asarray(ex.expected())
    shape = ref.shape
    cands: list[tuple[str, object]] = [("zero", np.zeros(shape) if shape else 0)]
    for x in ex.inputs:
        cands.append((f"input {x}", x))
        if shape:
            cands.append((f"input {x} everywhere", np.full(shape, x)))
    if ex.kind == "integer":
        r = ref.astype(np.int64)
        cands += [("negated", -r), ("doubled", 2 * r), ("plus one", r + 1), ("minus one", r - 1)]
        cands += [("halved", r // 2), ("non-integer", r + 0.4)]
        cands = [(n, c.item() if isinstance(c, np.ndarray) and not shape else c) for n, c in cands]
    else:
        r = ref.astype(float)
        cands += [("negated", -r), ("doubled", 2 * r), ("halved", r / 2)]
        cands += [("NaN", np.full(shape, np.nan) if shape else float("nan"))]
    return cands


def _wrong_functions(ex: checks.Exercise) -> list[tuple[str, object]]:
    ref = ex.reference

    def scaled(f):
        return lambda *a: f * np.asarray(ref(*a), dtype=float)

    cands: list[tuple[str, object]] = [
        ("returns 0", lambda *a: 0.0),
        ("returns zeros", lambda *a: np.zeros_like(np.asarray(ref(*a), dtype=float))),
        ("negated", scaled(-1.0)),
        ("doubled", scaled(2.0)),
        ("halved", scaled(0.5)),
        ("returns its first argument", lambda *a: a[0]),
        ("not a function", 1.0),
    ]
    cands += [(f"returns input {x}", lambda *a, x=x: x) for x in ex.inputs]
    return cands


def _equals_reference(ex: checks.Exercise, cand: object) -> bool:
    """True when a candidate wrong answer is in fact right (then it is skipped)."""
    if ex.kind == "function":
        if not callable(cand):
            return False
        for args in ex.answer.cases:
            got = np.asarray(cand(*args), dtype=float)
            want = np.asarray(ex.reference(*args), dtype=float)
            if got.shape != want.shape and got.size != 1:
                return False
            if not np.allclose(np.broadcast_to(got, want.shape), want, rtol=1e-12, atol=0):
                return False
        return True
    want = np.asarray(ex.expected(), dtype=float)
    got = np.asarray(cand, dtype=float)
    return got.shape == want.shape and np.array_equal(got, want)


@pytest.mark.parametrize("ex", EXERCISES, ids=[ex.id for ex in EXERCISES])
def test_reference_is_accepted(ex, capsys):
    answer = ex.reference if ex.kind == "function" else ex.expected()
    assert checks.check(ex.id, answer), capsys.readouterr().out


@pytest.mark.parametrize("ex", EXERCISES, ids=[ex.id for ex in EXERCISES])
def test_wrong_answers_are_rejected_without_leaking_the_value(ex, capsys):
    patterns = _leak_patterns(ex)
    assert patterns, f"{ex.id}: every form of the reference is in the question; nothing to check"
    cands = _wrong_functions(ex) if ex.kind == "function" else _wrong_values(ex)
    tried = 0
    for name, cand in cands:
        if _equals_reference(ex, cand):
            continue  # this candidate is the right answer here, not a wrong one
        tried += 1
        result = checks.check(ex.id, cand)
        printed = capsys.readouterr().out
        assert not result, f"{ex.id}: the wrong answer '{name}' was accepted"
        assert result.message in printed
        for text in (result.message, printed):
            leaks = [p.pattern for p in patterns if p.search(text)]
            assert not leaks, f"{ex.id}, answer '{name}': feedback {text!r} reveals {leaks}"
    assert tried >= 5, f"{ex.id}: only {tried} wrong answers could be tried"


@pytest.mark.parametrize("ex", EXERCISES, ids=[ex.id for ex in EXERCISES])
def test_hints_are_graded_and_do_not_leak(ex, capsys):
    assert len(ex.hints) >= 2
    for text in ex.hints:
        leaks = [p.pattern for p in _leak_patterns(ex) if p.search(text)]
        assert not leaks, f"{ex.id}: hint {text!r} reveals {leaks}"
    checks._HINTS_SHOWN.pop(ex.id, None)
    shown = []
    for _ in range(len(ex.hints) + 1):
        assert checks.hint(ex.id) is None
        shown.append(capsys.readouterr().out)
    for i, text in enumerate(ex.hints):  # one at a time, in order, then the last again
        assert text in shown[i] and all(t not in shown[i] for t in ex.hints[i + 1 :])
    assert ex.hints[-1] in shown[-1]


@pytest.mark.parametrize("ex", EXERCISES, ids=[ex.id for ex in EXERCISES])
def test_prompt_states_form_and_the_notebook_shows_it(ex):
    assert ex.form in ex.prompt
    assert ex.kind in {"float", "integer", "function"}
    words = ("significant digits",) if ex.kind != "integer" else ("integer",)
    assert all(w in ex.form for w in words)
    chapter = ex.id.split(".")[0]
    texts = []
    for path in sorted((ROOT / "notebooks").glob(f"{chapter}*.py")):
        text = path.read_text()
        text = re.sub(r"^# ?", "", text, flags=re.M)
        texts.append(re.sub(r"\s+", " ", text.replace("`", "").replace("$", "")))
    cells = [t for t in texts if f"**{ex.id}**" in t]
    assert len(cells) == 1, f"{ex.id} must appear in exactly one notebook of chapter {chapter}"
    section = cells[0].split(f"**{ex.id}**", 1)[1].split("check(", 1)[0]
    assert "Answer: " + ex.form in section, f"{ex.id}: the notebook must state '{ex.form}'"


def test_integer_answers_reject_non_integers_and_accept_integral_floats(capsys):
    ex = next(e for e in EXERCISES if e.kind == "integer" and np.ndim(e.expected()) == 0)
    ref = int(ex.expected())
    assert checks.check(ex.id, ref) and checks.check(ex.id, float(ref))
    assert checks.check(ex.id, np.int32(ref)) if abs(ref) < 2**31 else True
    msg = checks.check(ex.id, ref + 0.4).message
    assert "not an integer" in msg
    assert "round-off" in checks.check(ex.id, ref * (1 + 1e-15) + 1e-12).message
    assert "bool" in checks.check(ex.id, True).message
    assert "off by one" in checks.check(ex.id, ref + 1).message
    capsys.readouterr()


def test_feedback_names_recognisable_mistakes(capsys):
    float_ex = next(e for e in EXERCISES if e.kind == "float" and np.ndim(e.expected()) == 0)
    ref = float(float_ex.expected())
    assert "sign is flipped" in checks.check(float_ex.id, -ref).message
    assert "twice" in checks.check(float_ex.id, 2 * ref).message
    assert "half" in checks.check(float_ex.id, ref / 2).message
    assert "NaN" in checks.check(float_ex.id, float("nan")).message
    assert "wrong shape" in checks.check(float_ex.id, [ref, ref]).message
    assert "expected a number" in checks.check(float_ex.id, "0.5").message
    assert "hint(" in checks.check(float_ex.id, 0.0).message
    fn_ex = next(e for e in EXERCISES if e.kind == "function")
    msg = checks.check(fn_ex.id, lambda *a: -np.asarray(fn_ex.reference(*a), dtype=float))
    assert "sign is flipped" in msg.message
    assert "raised ZeroDivisionError" in checks.check(fn_ex.id, lambda *a: 1 / 0).message
    capsys.readouterr()
