"""Exercise checker and derivation-check helpers.

Two kinds of check appear in every chapter:

* **Derivation checks** (``assert_close``, ``assert_within_se``, ``assert_pmf_matches``)
  compare a simulation or a numerical result with a closed form, print both, and raise
  ``AssertionError`` when they disagree beyond a stated tolerance. Statistical checks
  use standard errors: ``|estimate - exact| <= k * SE``.
* **Exercises**: each chapter defines an :class:`ExerciseSet` in its ``exercises``
  module. ``check(exercise_id, answer)`` looks the exercise up, compares the learner's
  answer with the reference (computed by the library, never hard-coded), prints a
  right/wrong message with a hint, and returns a truthy/falsy :class:`CheckResult`.
  Solutions notebooks write ``assert check(...)`` so CI proves every solution passes.
"""

from __future__ import annotations

import importlib
import math
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
    "assert_close",
    "assert_pmf_matches",
    "assert_within_se",
    "check",
    "function_answer",
    "numeric_answer",
    "standard_error",
]


# ----------------------------------------------------------------------------------
# Derivation checks
# ----------------------------------------------------------------------------------
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
    print(f"{label}: simulated {estimate:.6g} ± {se:.2g} (SE), exact {exact:.6g}, z = {z:+.2f}")
    if not abs(z) <= k:
        raise AssertionError(
            f"{label}: simulation {estimate:.6g} differs from exact {exact:.6g} by "
            f"{abs(z):.1f} standard errors (allowed {k})"
        )


def assert_close(
    actual: Any, expected: Any, *, rtol: float = 1e-9, atol: float = 1e-12, label: str = "value"
) -> None:
    """Assert ``|actual - expected| <= atol + rtol * |expected|`` elementwise; print the error."""
    a, e = _as_numpy(actual), _as_numpy(expected)
    if a.shape != e.shape:
        raise AssertionError(f"{label}: shape {a.shape} does not match expected {e.shape}")
    diff = np.abs(a - e)
    max_err = float(diff.max()) if diff.size else 0.0
    print(f"{label}: max |difference| = {max_err:.3g} (tolerance atol={atol:g}, rtol={rtol:g})")
    bad = ~(diff <= atol + rtol * np.abs(e))
    if bad.any():
        i = np.unravel_index(int(np.argmax(np.where(bad, diff, -1.0))), diff.shape)
        raise AssertionError(
            f"{label}: {int(bad.sum())} of {diff.size} entries differ; worst at index {i}: "
            f"{a[i]!r} vs expected {e[i]!r}"
        )


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
    print(f"{label}: {int(m)} draws, {obs.size} bins, max |z| = {worst:.2f}, TV distance {tv:.4f}")
    if worst > k:
        raise AssertionError(f"{label}: a bin is {worst:.1f} standard errors off (allowed {k})")


# ----------------------------------------------------------------------------------
# Exercises
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


Comparator = Callable[[Any], tuple[bool, str]]


@dataclass(frozen=True)
class Exercise:
    """One exercise: an id, a prompt, a comparator over the answer, and a hint.

    ``compare(answer) -> (correct, detail)`` computes the reference itself (from the
    library), so no answer is hard-coded in the checker.
    """

    id: str
    prompt: str
    compare: Comparator
    hint: str = ""


_REGISTRY: dict[str, Exercise] = {}


@dataclass
class ExerciseSet:
    """The exercises of one chapter; constructing it registers them for :func:`check`."""

    chapter: str
    exercises: Sequence[Exercise]
    _by_id: dict[str, Exercise] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {}
        for ex in self.exercises:
            if not ex.id.startswith(self.chapter + "."):
                raise ValueError(f"exercise id {ex.id!r} must start with {self.chapter!r}.")
            self._by_id[ex.id] = ex
            _REGISTRY[ex.id] = ex

    def check(self, exercise_id: str, answer: Any) -> CheckResult:
        """Check ``answer`` for ``exercise_id`` of this chapter (see :func:`check`)."""
        if exercise_id not in self._by_id:
            known = sorted(self._by_id)
            raise KeyError(f"unknown exercise {exercise_id!r}; this chapter has {known}")
        return _run_check(self._by_id[exercise_id], answer)


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


def _run_check(ex: Exercise, answer: Any) -> CheckResult:
    if answer is None or answer is Ellipsis:
        result = CheckResult(False, f"⏳ {ex.id}: no answer yet. {ex.prompt}")
    else:
        try:
            ok, detail = ex.compare(answer)
        except Exception as err:  # the learner's answer raised: report it, don't crash
            ok, detail = False, f"your answer raised {type(err).__name__}: {err}"
        if ok:
            result = CheckResult(True, f"✅ {ex.id}: correct. {detail}".rstrip())
        else:
            hint = f" Hint: {ex.hint}" if ex.hint else ""
            result = CheckResult(False, f"❌ {ex.id}: not yet. {detail}{hint}")
    print(result.message)
    return result


def check(exercise_id: str, answer: Any) -> CheckResult:
    """Check a learner's ``answer`` to exercise ``exercise_id`` (e.g. ``"01.2"``).

    Prints a right/wrong message with the reason and a hint, and returns a
    :class:`CheckResult` that is truthy only when the answer is right. ``None`` or
    ``...`` means "not answered yet" and is reported, not raised.
    """
    if not isinstance(exercise_id, str):
        raise TypeError(f"exercise_id must be a str like '01.1', got {type(exercise_id).__name__}")
    if exercise_id not in _REGISTRY:
        _discover_exercises()
    if exercise_id not in _REGISTRY:
        raise KeyError(f"unknown exercise {exercise_id!r}; known: {sorted(_REGISTRY)}")
    return _run_check(_REGISTRY[exercise_id], answer)


# ----------------------------------------------------------------------------------
# Comparators used by the chapters' exercise sets
# ----------------------------------------------------------------------------------
def numeric_answer(
    reference: Callable[[], Any], *, rtol: float = 1e-6, atol: float = 1e-9
) -> Comparator:
    """Comparator for a number or array answer, against ``reference()`` (computed lazily)."""

    def compare(answer: Any) -> tuple[bool, str]:
        try:
            a = _as_numpy(answer)
        except (TypeError, ValueError):
            return False, f"expected a number or array, got {type(answer).__name__}"
        e = _as_numpy(reference())
        if a.shape != e.shape:
            return False, f"expected shape {e.shape}, got {a.shape}"
        if not np.all(np.isfinite(a)):
            return False, "your answer contains NaN or infinity"
        if np.allclose(a, e, rtol=rtol, atol=atol):
            return True, ""
        err = float(np.max(np.abs(a - e)))
        return False, f"off by up to {err:.3g} (tolerance rtol={rtol:g})"

    return compare


def function_answer(
    reference: Callable[..., Any],
    cases: Sequence[tuple[Any, ...]],
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> Comparator:
    """Comparator for a function answer: call it on ``cases`` and compare with ``reference``."""

    def compare(answer: Any) -> tuple[bool, str]:
        if not callable(answer):
            return False, f"expected a function, got {type(answer).__name__}"
        for args in cases:
            got, want = _as_numpy(answer(*args)), _as_numpy(reference(*args))
            if got.shape != want.shape or not np.allclose(got, want, rtol=rtol, atol=atol):
                return False, f"for input {args} you return {got!r}, expected {want!r}"
        return True, f"matches the reference on {len(cases)} inputs."

    return compare
