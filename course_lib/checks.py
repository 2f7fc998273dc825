"""Exercise checker and derivation-check helpers.

Two kinds of check appear in every chapter:

* **Derivation checks** (``assert_close``, ``assert_within_se``, ``assert_pmf_matches``)
  compare a simulation or a numerical result with a closed form, print both, and raise
  ``AssertionError`` when they disagree beyond a stated tolerance. Statistical checks
  use standard errors: ``|estimate - exact| <= k * SE``.

  They print in one of two modes and assert the same thing in both. *Learner mode*
  (the default) prints every detail: both values, the standard error, the z-score, the
  tolerance. *Lecture mode* prints one line per check, ``✓ label: compared quantity``, so a
  projected notebook stays readable. ``COURSE_LECTURE=1`` in the environment (e.g.
  ``COURSE_LECTURE=1 make lab``) or ``lecture_mode(True)`` in a notebook turns it on;
  ``lecture_mode(False)`` turns it off and ``lecture_mode()`` reports it.
* **Exercises** with instant feedback that never gives the answer away.

Exercise API (what a chapter writes)
------------------------------------
Each chapter package ``course_lib/<chapter>/`` has one module ``exercises.py`` that
builds an :class:`ExerciseSet`; constructing it registers the exercises. :func:`check`
and :func:`hint` find them by id, importing every ``course_lib.<pkg>.exercises`` on
first use, so a new chapter needs no other registration. An :class:`Exercise` has

* ``id`` -- ``"<chapter>.<n>"``, e.g. ``"02.3"``;
* ``question`` -- the question; ``prompt`` appends the answer's form and precision
  (``form``), which the notebook's markdown repeats;
* ``reference`` -- a callable that computes the answer *from the library* (never a
  hard-coded number): no arguments for a float or integer answer, the test-case
  arguments for a function answer;
* ``answer`` -- the comparator, one of
  ``float_answer(digits=6, shape=())`` (a float or float array, to ``digits``
  significant digits: relative error at most ``5 * 10**-digits``),
  ``integer_answer(shape=())`` (a count, exact; ``165.4`` is not an integer, an exactly
  integral float such as ``165.0`` is accepted) or
  ``function_answer(cases, "u(n) -> float", digits=9)`` (a function, compared with the
  reference function on every tuple of ``cases``); ``kind`` is ``"float"``,
  ``"integer"`` or ``"function"``;
* ``inputs`` -- the plain numbers that appear in the question (the wrong-answer test
  feeds each of them back as an answer);
* ``hints`` -- at least two, graded: the first ones point at the idea, never at the
  formula; the last may state the formula; none states the value.

Feedback
--------
``check(id, answer)`` prints right or wrong and, where it recognises the mistake, its
kind: sign flipped, twice or half the value, off by one (integers), not an integer,
wrong shape or type, NaN, "one of the numbers given in the question". It never prints
the reference, the learner's error, or a tolerance derived from it, and it never shows
a function's expected outputs. It returns a :class:`CheckResult`, truthy only when the
answer is right, so solutions write ``assert check(...)``. ``hint(id)`` prints the next
hint, one per call. Notebooks import both from here: ``from course_lib.checks import
check, hint``. ``tests/test_exercise_feedback.py`` feeds every registered exercise
plausible wrong answers and checks that none is accepted and no feedback leaks the value.
"""

from __future__ import annotations

import importlib
import math
import os
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

__all__ = [
    "CheckResult",
    "Exercise",
    "ExerciseSet",
    "FloatAnswer",
    "FunctionAnswer",
    "IntegerAnswer",
    "all_exercises",
    "assert_close",
    "assert_pmf_matches",
    "assert_within_se",
    "check",
    "float_answer",
    "function_answer",
    "hint",
    "integer_answer",
    "lecture_mode",
    "standard_error",
]


# ----------------------------------------------------------------------------------
# Derivation checks
# ----------------------------------------------------------------------------------
LECTURE_ENV_VAR = "COURSE_LECTURE"
_ON = {"1", "true", "yes", "on"}
_OFF = {"0", "false", "no", "off"}
_lecture_override: bool | None = None  # set by lecture_mode(True/False); wins over the env var


def lecture_mode(on: bool | None = None) -> bool:
    """Report, or switch, quiet lecture mode for the derivation checks; return the mode.

    ``lecture_mode()`` returns True when checks print one line each. ``lecture_mode(True)``
    or ``lecture_mode(False)`` sets the mode for this process, overriding ``COURSE_LECTURE``
    (1/true/yes/on or 0/false/no/off, case-insensitive; anything else raises ``ValueError``).
    The asserts are the same in both modes: only what a passing check prints changes.
    """
    global _lecture_override
    if on is not None:
        if not isinstance(on, bool):
            raise TypeError(f"lecture_mode expects True, False or None, got {type(on).__name__}")
        _lecture_override = on
    if _lecture_override is not None:
        return _lecture_override
    raw = os.environ.get(LECTURE_ENV_VAR, "").strip()
    if not raw:
        return False
    if raw.lower() in _ON:
        return True
    if raw.lower() in _OFF:
        return False
    raise ValueError(
        f"{LECTURE_ENV_VAR} must be one of 1/true/yes/on or 0/false/no/off, got {raw!r}"
    )


def _passed(summary: str) -> None:
    """Lecture mode's one line for a check that passed: ``✓ label: compared quantity``."""
    print(f"\N{CHECK MARK} {summary}")


def _as_numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", torch.float64).numpy()
    return np.asarray(x, dtype=np.float64)


def standard_error(samples: Any) -> float:
    """Standard error of the mean, ``s / sqrt(n)``, of a 1-D sample."""
    x = _as_numpy(samples).ravel()
    if x.size < 2:
        raise ValueError(f"need at least 2 samples for a standard error, got {x.size}")
    return float(x.std(ddof=1) / math.sqrt(x.size))


def assert_within_se(
    estimate: float, exact: float, se: float, k: float = 4.0, label: str = "estimate"
) -> None:
    """Assert ``|estimate - exact| <= k * se`` and print both with the z-score.

    ``k = 4`` makes a false alarm about a 1-in-16 000 event for a Gaussian estimate,
    while a wrong formula of any visible size still fails.
    """
    estimate, exact, se = float(estimate), float(exact), float(se)
    if not se > 0 or not math.isfinite(se):
        raise ValueError(f"se must be a positive finite number, got {se}")
    z = (estimate - exact) / se
    details = f"{label}: simulated {estimate:.6g} ± {se:.2g} (SE), exact {exact:.6g}, z = {z:+.2f}"
    if not lecture_mode():
        print(details)
    if not abs(z) <= k:
        raise AssertionError(
            f"{label}: simulation {estimate:.6g} differs from exact {exact:.6g} by "
            f"{abs(z):.1f} standard errors (allowed {k})"
        )
    if lecture_mode():
        _passed(f"{label}: {estimate:.4g} vs exact {exact:.4g} (z = {z:+.1f})")


def assert_close(
    actual: Any, expected: Any, *, rtol: float = 1e-9, atol: float = 1e-12, label: str = "value"
) -> None:
    """Assert ``|actual - expected| <= atol + rtol * |expected|`` elementwise; print the error."""
    a, e = _as_numpy(actual), _as_numpy(expected)
    if a.shape != e.shape:
        raise AssertionError(f"{label}: shape {a.shape} does not match expected {e.shape}")
    diff = np.abs(a - e)
    max_err = float(diff.max()) if diff.size else 0.0
    details = f"{label}: max |difference| = {max_err:.3g} (tolerance atol={atol:g}, rtol={rtol:g})"
    if not lecture_mode():
        print(details)
    bad = ~(diff <= atol + rtol * np.abs(e))
    if bad.any():
        i = np.unravel_index(int(np.argmax(np.where(bad, diff, -1.0))), diff.shape)
        raise AssertionError(
            f"{label}: {int(bad.sum())} of {diff.size} entries differ; worst at index {i}: "
            f"{a[i]!r} vs expected {e[i]!r}"
        )
    if lecture_mode():
        _passed(f"{label}: max |difference| = {max_err:.2g}")


def assert_pmf_matches(counts: Any, pmf: Any, k: float = 5.0, label: str = "histogram") -> float:
    """Assert observed counts agree with a pmf bin by bin within ``k`` standard errors.

    For ``M`` draws the count in a bin with probability ``p`` has standard error
    ``sqrt(M p (1 - p))``; bins with ``M p < 5`` are pooled into one tail bin so the
    normal approximation holds. Prints the largest |z| over bins and the TV distance.
    """
    c, p = _as_numpy(counts).ravel(), _as_numpy(pmf).ravel()
    if c.shape != p.shape:
        raise ValueError(f"counts and pmf must have the same length, got {c.size} and {p.size}")
    if np.any(p < 0) or not math.isclose(p.sum(), 1.0, rel_tol=0, abs_tol=1e-9):
        raise ValueError(f"pmf must be non-negative and sum to 1, got sum {p.sum():.12g}")
    m = c.sum()
    big = m * p >= 5
    obs = np.append(c[big], c[~big].sum())
    prob = np.append(p[big], p[~big].sum())
    keep = prob > 0
    obs, prob = obs[keep], prob[keep]
    z = (obs - m * prob) / np.sqrt(m * prob * (1 - prob) + 1e-300)
    worst = float(np.abs(z).max())
    tv = 0.5 * float(np.abs(c / m - p).sum())
    details = (
        f"{label}: {int(m)} draws, {obs.size} bins, max |z| = {worst:.2f}, TV distance {tv:.4f}"
    )
    if not lecture_mode():
        print(details)
    if worst > k:
        raise AssertionError(f"{label}: a bin is {worst:.1f} standard errors off (allowed {k})")
    if lecture_mode():
        _passed(f"{label}: max |z| = {worst:.1f} over {obs.size} bins")


# ----------------------------------------------------------------------------------
# Exercises: comparators
# ----------------------------------------------------------------------------------
# Every feedback string below is built from fixed words only: it never formats the
# reference, the learner's value, their difference or a tolerance, so it cannot give the
# answer away (tests/test_exercise_feedback.py checks this for every exercise).

_MAX_EXACT_FLOAT_INT = 2**53  # beyond this a float cannot hold every integer exactly


def _sig_rtol(digits: int) -> float:
    """Relative tolerance of ``digits`` significant digits: ``5 * 10**-digits``, + 1 % slack.

    Rounding ``x = d.ddd... * 10**k`` (leading digit >= 1) to ``n`` significant digits
    moves it by at most ``0.5 * 10**(k - n + 1) <= 5 * 10**-n * |x|``.
    """
    return 5.05 * 10.0 ** (-digits)


def _check_digits(digits: int) -> int:
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 15:
        raise ValueError(f"digits must be an int in [1, 15], got {digits!r}")
    return digits


def _describe_shape(shape: tuple[int, ...], noun: str) -> str:
    if shape == ():
        return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"
    if len(shape) == 1:
        return f"a vector of {shape[0]} {noun}s"
    return f"an array of shape {shape} of {noun}s"


def _close(a: np.ndarray, e: np.ndarray, rtol: float, atol: float) -> bool:
    return a.shape == e.shape and bool(np.all(np.abs(a - e) <= atol + rtol * np.abs(e)))


# (transform of the reference, what the learner's answer then is); checked in order.
_FLOAT_MISTAKES: tuple[tuple[Callable[[np.ndarray], np.ndarray], str], ...] = (
    (lambda e: -e, "the sign is flipped"),
    (lambda e: 2 * e, "your answer is twice the expected value (a factor of two too large)"),
    (lambda e: e / 2, "your answer is half the expected value (a factor of two too small)"),
)


def _as_float_answer(answer: Any) -> np.ndarray | str:
    """The answer as a float64 array, or a message saying why it is not a number."""
    if isinstance(answer, (str, bytes)) or answer is None:
        return f"expected a number, got {type(answer).__name__}"
    if callable(answer) and not isinstance(answer, (torch.Tensor, np.ndarray)):
        return "expected a number, got a function (call it and give its result)"
    try:
        a = _as_numpy(answer)
    except (TypeError, ValueError):
        return f"expected a number, got {type(answer).__name__}"
    if a.dtype == object:
        return f"expected a number, got {type(answer).__name__}"
    return a


@dataclass(frozen=True)
class FloatAnswer:
    """A real number (or an array of them, ``shape``) to ``digits`` significant digits.

    Accepted when ``|answer - reference| <= atol + rtol |reference|`` elementwise, with
    ``rtol`` from :func:`_sig_rtol`; ``atol`` (default 0) only matters for reference
    entries that are exactly 0.
    """

    digits: int = 6
    shape: tuple[int, ...] = ()
    atol: float = 0.0
    kind: str = field(default="float", init=False)

    def __post_init__(self) -> None:
        _check_digits(self.digits)
        if not isinstance(self.shape, tuple):
            raise TypeError(f"shape must be a tuple, got {type(self.shape).__name__}")

    @property
    def rtol(self) -> float:
        return _sig_rtol(self.digits)

    def describe(self) -> str:
        return f"{_describe_shape(self.shape, 'float')}, to {self.digits} significant digits"

    def compare(self, answer: Any, reference: Any) -> tuple[bool, str]:
        a = _as_float_answer(answer)
        if isinstance(a, str):
            return False, a
        e = _as_numpy(reference)
        if a.shape != e.shape:
            return False, "your answer has the wrong shape or length"
        if not np.all(np.isfinite(a)):
            return False, "your answer contains NaN or infinity"
        if _close(a, e, self.rtol, self.atol):
            return True, ""
        for transform, message in _FLOAT_MISTAKES:
            if _close(a, transform(e), self.rtol, self.atol):
                return False, message
        return False, "that is not the expected value"


def _integer_array(answer: Any) -> np.ndarray | str:
    """The answer as an int64 array, or a message saying why it is not a whole number."""
    if isinstance(answer, bool) or (isinstance(answer, np.ndarray) and answer.dtype == bool):
        return "expected an integer, got a bool"
    if isinstance(answer, torch.Tensor):
        answer = answer.detach().cpu().numpy()
    a = _as_float_answer(answer)
    if isinstance(a, str):
        return a.replace("a number", "an integer")
    raw = np.asarray(answer)
    if raw.dtype.kind in "iu":
        return raw.astype(np.int64)
    if not np.all(np.isfinite(a)):
        return "your answer contains NaN or infinity"
    if np.any(np.abs(a) >= _MAX_EXACT_FLOAT_INT):
        return "your answer is a float too large to hold a whole number exactly; give an int"
    if np.any(a != np.round(a)):
        if np.all(np.abs(a - np.round(a)) <= 1e-9 * np.maximum(1.0, np.abs(a))):
            return (
                "your float is not exactly a whole number (floating-point round-off?); "
                "give the count as an int, e.g. with integer arithmetic (//) or round()"
            )
        return "a count is a whole number, and your answer is not an integer"
    return a.astype(np.int64)


@dataclass(frozen=True)
class IntegerAnswer:
    """A whole number (a count), or an array of them (``shape``), compared exactly.

    Accepted types: ``int``, NumPy and torch integers, and floats that are exactly
    integral (``165.0`` is accepted, ``165.4`` is rejected as "not an integer"; a float
    a round-off away from an integer is rejected with a message that says so). ``bool``
    is rejected.
    """

    shape: tuple[int, ...] = ()
    kind: str = field(default="integer", init=False)

    def describe(self) -> str:
        return _describe_shape(self.shape, "integer")

    def compare(self, answer: Any, reference: Any) -> tuple[bool, str]:
        a = _integer_array(answer)
        if isinstance(a, str):
            return False, a
        e = _integer_array(reference)
        if isinstance(e, str):  # a bug in the chapter's reference, not in the answer
            raise RuntimeError(f"integer exercise has a non-integer reference: {e}")
        if a.shape != e.shape:
            return False, "your answer has the wrong shape or length"
        if np.array_equal(a, e):
            return True, ""
        if np.array_equal(a, -e):
            return False, "the sign is flipped"
        if np.array_equal(a, 2 * e):
            return False, "your answer is twice the expected value (a factor of two too large)"
        if np.array_equal(2 * a, e):
            return False, "your answer is half the expected value (a factor of two too small)"
        if np.all(np.abs(a - e) == 1):
            return False, "your count is off by one: check the first and last step"
        return False, "that is not the expected value"


@dataclass(frozen=True)
class FunctionAnswer:
    """A function, called on every tuple in ``cases`` and compared with the reference.

    ``signature`` (e.g. ``"u(n) -> float"``) is shown in the prompt; outputs may be
    numbers, arrays or tuples of numbers and must agree to ``digits`` significant digits
    (``atol`` covers reference outputs that are exactly 0). Feedback names neither the
    failing input nor any output.
    """

    cases: tuple[tuple[Any, ...], ...]
    signature: str
    digits: int = 9
    atol: float = 1e-12
    kind: str = field(default="function", init=False)

    def __post_init__(self) -> None:
        _check_digits(self.digits)
        if not self.cases or not all(isinstance(c, tuple) for c in self.cases):
            raise ValueError("cases must be a non-empty sequence of argument tuples")
        object.__setattr__(self, "cases", tuple(self.cases))

    @property
    def rtol(self) -> float:
        return _sig_rtol(self.digits)

    def describe(self) -> str:
        return f"a function {self.signature}, to {self.digits} significant digits"

    def compare(self, answer: Any, reference: Callable[..., Any]) -> tuple[bool, str]:
        if not callable(answer):
            return False, f"expected a function, got {type(answer).__name__}"
        got, want = [], []
        for args in self.cases:
            try:
                out = answer(*args)
            except Exception as err:  # the learner's function raised: report the kind
                return False, f"your function raised {type(err).__name__} on a test input"
            a = _as_float_answer(out)
            if isinstance(a, str):
                return False, "your function " + a.replace("expected", "should return", 1)
            e = _as_numpy(reference(*args))
            if a.shape != e.shape:
                return (
                    False,
                    f"your function returns the wrong shape; it should be {self.signature}",
                )
            if not np.all(np.isfinite(a)):
                return False, "your function returns NaN or infinity on a test input"
            got.append(a.ravel())
            want.append(e.ravel())
        a, e = np.concatenate(got), np.concatenate(want)
        if _close(a, e, self.rtol, self.atol):
            return True, "your function matches the reference on every test input"
        for transform, message in _FLOAT_MISTAKES:
            if _close(a, transform(e), self.rtol, self.atol):
                return False, "on every test input " + message.replace("your answer", "it")
        wrong = sum(not _close(g, w, self.rtol, self.atol) for g, w in zip(got, want, strict=True))
        where = "every test input" if wrong == len(self.cases) else "some of the test inputs"
        return False, f"your function gives a wrong value on {where}"


Comparator = FloatAnswer | IntegerAnswer | FunctionAnswer


def float_answer(digits: int = 6, *, shape: tuple[int, ...] = (), atol: float = 0.0) -> FloatAnswer:
    """A float answer (or an array of floats of ``shape``) to ``digits`` significant digits."""
    return FloatAnswer(digits=digits, shape=shape, atol=atol)


def integer_answer(*, shape: tuple[int, ...] = ()) -> IntegerAnswer:
    """An exact integer answer (a count), or an array of integers of ``shape``."""
    return IntegerAnswer(shape=shape)


def function_answer(
    cases: Sequence[tuple[Any, ...]], signature: str, *, digits: int = 9, atol: float = 1e-12
) -> FunctionAnswer:
    """A function answer, checked on ``cases`` against the exercise's reference function."""
    return FunctionAnswer(tuple(cases), signature, digits=digits, atol=atol)


# ----------------------------------------------------------------------------------
# Exercises: the exercise, the registry, check and hint
# ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckResult:
    """Outcome of :func:`check`: truthy when correct, with the message shown."""

    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __repr__(self) -> str:
        return f"CheckResult(correct={self.correct})"

    def _ipython_display_(self) -> None:
        """Show nothing more in a notebook: :func:`check` has already printed the message."""


@dataclass(frozen=True)
class Exercise:
    """One exercise (see the module docstring for the contract).

    ``reference`` computes the answer from the library: with no arguments for float and
    integer answers, with the ``cases`` arguments for function answers. ``inputs`` are
    the plain numbers that appear in ``question``; ``hints`` go from a nudge to the
    formula, never to the value.
    """

    id: str
    question: str
    reference: Callable[..., Any]
    answer: Comparator
    inputs: tuple[float, ...] = ()
    hints: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.answer, (FloatAnswer, IntegerAnswer, FunctionAnswer)):
            raise TypeError(
                "answer must come from float_answer, integer_answer or function_answer, "
                f"got {type(self.answer).__name__}"
            )
        if not callable(self.reference):
            raise TypeError(f"reference must be callable, got {type(self.reference).__name__}")
        if len(self.hints) < 2:
            raise ValueError(
                f"exercise {self.id} needs at least 2 graded hints, got {len(self.hints)}"
            )
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "hints", tuple(self.hints))

    @property
    def kind(self) -> str:
        """``"float"``, ``"integer"`` or ``"function"``."""
        return self.answer.kind

    @property
    def form(self) -> str:
        """The answer's form and precision, as the prompt states it."""
        return self.answer.describe()

    @property
    def prompt(self) -> str:
        """The question followed by the answer's form and precision."""
        return f"{self.question} Answer: {self.form}."

    def expected(self) -> Any:
        """The reference value (float and integer answers only; never shown to learners)."""
        if self.kind == "function":
            raise TypeError(f"exercise {self.id} asks for a function: call ex.reference(*args)")
        return self.reference()

    def compare(self, answer: Any) -> tuple[bool, str]:
        """``(correct, feedback)``; the feedback never contains the reference."""
        reference = self.reference if self.kind == "function" else self.reference()
        ok, detail = self.answer.compare(answer, reference)
        if not ok and self.kind != "function" and self._is_an_input(answer):
            detail += "; it is one of the numbers given in the question, not the result"
        return ok, detail

    def _is_an_input(self, answer: Any) -> bool:
        try:
            a = _as_numpy(answer)
        except (TypeError, ValueError):
            return False
        return (
            a.size == 1 and a.dtype != object and any(float(a.ravel()[0]) == x for x in self.inputs)
        )


_REGISTRY: dict[str, Exercise] = {}
_HINTS_SHOWN: dict[str, int] = {}


@dataclass
class ExerciseSet:
    """The exercises of one chapter; constructing it registers them for :func:`check`."""

    chapter: str
    exercises: Sequence[Exercise]

    def __post_init__(self) -> None:
        ids = [ex.id for ex in self.exercises]
        if len(set(ids)) != len(ids):
            raise ValueError(f"exercise ids must be unique within a chapter, got {ids}")
        for ex in self.exercises:
            if not isinstance(ex, Exercise):
                raise TypeError(f"exercises must be Exercise objects, got {type(ex).__name__}")
            if not ex.id.startswith(self.chapter + "."):
                raise ValueError(f"exercise id {ex.id!r} must start with {self.chapter!r}.")
        for ex in self.exercises:
            _REGISTRY[ex.id] = ex


def _discover_exercises() -> None:
    """Import every ``course_lib.<chapter>.exercises`` module so its set registers."""
    import course_lib

    for mod in pkgutil.iter_modules(course_lib.__path__):
        if mod.ispkg:
            try:
                importlib.import_module(f"course_lib.{mod.name}.exercises")
            except ModuleNotFoundError as err:
                if err.name != f"course_lib.{mod.name}.exercises":
                    raise


def _id_key(exercise_id: str) -> tuple[int | str, ...]:
    return tuple(int(p) if p.isdigit() else p for p in exercise_id.split("."))


def all_exercises() -> list[Exercise]:
    """Every exercise of every chapter package, in id order (imports them all first)."""
    _discover_exercises()
    return [_REGISTRY[i] for i in sorted(_REGISTRY, key=_id_key)]


def _lookup(exercise_id: str) -> Exercise:
    if not isinstance(exercise_id, str):
        raise TypeError(f"exercise_id must be a str like '01.1', got {type(exercise_id).__name__}")
    if exercise_id not in _REGISTRY:
        _discover_exercises()
    if exercise_id not in _REGISTRY:
        raise KeyError(f"unknown exercise {exercise_id!r}; known: {sorted(_REGISTRY, key=_id_key)}")
    return _REGISTRY[exercise_id]


def check(exercise_id: str, answer: Any) -> CheckResult:
    """Check a learner's ``answer`` to exercise ``exercise_id`` (e.g. ``"01.2"``).

    Prints right/wrong, the kind of mistake where it is recognisable (sign flipped, a
    factor of two, off by one, not an integer, wrong shape or type, NaN), the expected
    form, and how to ask for a hint. Never prints the reference or a bound on it.
    Returns a :class:`CheckResult`, truthy only when the answer is right; ``None`` or
    ``...`` means "not answered yet" and is reported, not raised.
    """
    ex = _lookup(exercise_id)
    if answer is None or answer is Ellipsis:
        result = CheckResult(False, f"⏳ {ex.id}: no answer yet. {ex.prompt}")
    else:
        ok, detail = ex.compare(answer)
        if ok:
            result = CheckResult(True, f"✅ {ex.id}: correct.")
        else:
            result = CheckResult(
                False,
                f"❌ {ex.id}: not yet: {detail}. Expected: {ex.form}. "
                f'Stuck? hint("{ex.id}") shows the next hint.',
            )
    print(result.message)
    return result


def hint(exercise_id: str, level: int | None = None) -> None:
    """Print the next hint of ``exercise_id`` (or hint number ``level``, from 1).

    Hints are graded: the first ones point at the idea, the last one states the formula;
    none states the value. Each call without ``level`` moves one hint further and stays
    on the last one.
    """
    ex = _lookup(exercise_id)
    n = len(ex.hints)
    if level is None:
        level = min(_HINTS_SHOWN.get(ex.id, 0) + 1, n)
        _HINTS_SHOWN[ex.id] = level
    elif isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= n:
        raise ValueError(f"level must be an int in [1, {n}] for exercise {ex.id}, got {level!r}")
    more = "" if level == n else f' (call hint("{ex.id}") again for the next one)'
    print(f"💡 {ex.id}, hint {level}/{n}: {ex.hints[level - 1]}{more}")
