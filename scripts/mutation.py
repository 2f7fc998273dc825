"""Mutation testing of the course's formula modules with mutmut (``make mutation``).

A mutant is the module with one small change (an operator, a constant, an argument); a
test suite *kills* it when some test fails. The score of a module is the share of its
mutants that are detected (killed, or stopped by the time-out), so a module whose formulas
can change without any test noticing scores low.

Each module in :data:`MODULES` is mutated on its own, with only the unit tests of its
chapter's subpackage, in a scratch copy of the repository under ``.mutation/<module>/``
(never in the work tree). The copy holds the whole ``course_lib`` package, ``tests/conftest.py``,
the chapter's test directory (minus :data:`EXCLUDED_TESTS`) and ``pyproject.toml`` with a
``[tool.mutmut]`` section appended. It is kept after the run, so a survivor can be read
with ``cd .mutation/<module> && mutmut show <name>``.

Survivors that do not change behaviour (equivalent mutants) are listed, one line each with
a reason, in ``tests/mutation_equivalents.txt``; the table gives the score both without and
with them counted as killed. Usage::

    python scripts/mutation.py                                   # every module
    python scripts/mutation.py --module randomwalk/genfun.py     # one module
    python scripts/mutation.py --max-children 2 --fail-under 90
    python scripts/mutation.py --module randomwalk/genfun.py --resume   # after adding tests
    python scripts/mutation.py --report              # the table of the existing scratch runs

``--resume`` keeps a module's earlier scratch run: it refreshes the package and the tests
in it, rebuilds mutmut's map of which tests cover which function (so an edited test meets
the mutants it now covers), tests every mutant without a result (new or changed
functions), then re-tests only the earlier survivors. Tests only ever get added, so a
mutant killed before stays killed, and the table is the one a full run would print; after
deleting or weakening a test, run without ``--resume``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "course_lib"

#: Formula module (relative to course_lib/) -> the unit tests that must catch its mutants.
#: A new chapter adds its formula modules here (plotting, data and exercise modules stay out).
MODULES: dict[str, str] = {
    # Chapter 01: random walks and generating functions
    "randomwalk/walks.py": "tests/randomwalk",
    "randomwalk/genfun.py": "tests/randomwalk",
    "randomwalk/paths.py": "tests/randomwalk",
    "randomwalk/ruin.py": "tests/randomwalk",
    # Chapter 02: quadratic forms and their optimisation
    "quadratic/forms.py": "tests/quadratic",
    "quadratic/optim.py": "tests/quadratic",
    "quadratic/bridges.py": "tests/quadratic",
    # Chapter 03: stochastic approximation
    "approx/mean.py": "tests/approx",
    "approx/rm.py": "tests/approx",
    "approx/schedules.py": "tests/approx",
    "approx/sgd.py": "tests/approx",
    "approx/ode.py": "tests/approx",
    # Chapter 04: reinforcement learning (planning and Monte Carlo)
    "rl/gridworld.py": "tests/rl",
    "rl/planning.py": "tests/rl",
    "rl/montecarlo.py": "tests/rl",
    # Chapter 05: diffusion models (EDM, schedules, samplers, forward process, flow matching)
    "diffusion/edm.py": "tests/diffusion",
    "diffusion/schedules.py": "tests/diffusion",
    "diffusion/samplers.py": "tests/diffusion",
    "diffusion/forward.py": "tests/diffusion",
    "diffusion/flow.py": "tests/diffusion",
    # Chapter 06: normalizing flows (coupling layers, the flow's density, continuous flows)
    "flows/layers.py": "tests/flows",
    "flows/flow.py": "tests/flows",
    "flows/cnf.py": "tests/flows",
    # Chapter 07: FlashAttention (the Triton kernel is exercised by its own, slow, tests)
    "attention/reference.py": "tests/attention",
    "attention/tiled.py": "tests/attention",
    "attention/io_model.py": "tests/attention",
}

#: Test files left out of every run (glob patterns relative to the repository root): the
#: Triton kernel tests run the interpreter and take minutes per mutant.
EXCLUDED_TESTS = ("tests/attention/test_triton_*.py",)

#: Survivors judged equivalent: "<mutant name>: <reason>" per line, '#' starts a comment.
EQUIVALENTS_FILE = ROOT / "tests" / "mutation_equivalents.txt"

SCRATCH = ROOT / ".mutation"

#: One thread per worker (torch reads OMP_NUM_THREADS for its intra-op pool), fast sizes,
#: Triton on its CPU interpreter, no display.
WORKER_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "COURSE_FAST": "1",
    "TRITON_INTERPRET": "1",
    "MPLBACKEND": "Agg",
}

DETECTED = ("killed", "timeout", "caught by type check")

#: Modules the tests import lazily, inside a function (torch.optim pulls in torch._dynamo on
#: its first step, the plotting tests matplotlib, ...): 1-3 s each. The scratch conftest
#: imports them, so mutmut's fork server loads them once and every mutant's worker inherits
#: them instead of importing them again.
PRELOAD = (
    "torch._dynamo",
    "torch.distributed.tensor",
    "torchdiffeq",
    "matplotlib.pyplot",
    "scipy.optimize",
    "scipy.stats",
    "sympy",
    "sklearn.datasets",
)


@dataclass
class ModuleResult:
    """Counts of one module's mutants by mutmut's status."""

    module: str
    statuses: dict[str, str]  # mutant name -> status
    equivalents: set[str]  # listed equivalents that survived
    seconds: float

    def count(self, *names: str) -> int:
        return sum(status in names for status in self.statuses.values())

    @property
    def total(self) -> int:
        return len(self.statuses)

    @property
    def detected(self) -> int:
        return self.count(*DETECTED)

    def score(self, with_equivalents: bool = False) -> float:
        if not self.total:
            return float("nan")
        extra = len(self.equivalents) if with_equivalents else 0
        return 100.0 * (self.detected + extra) / self.total

    def survivors(self) -> list[str]:
        return sorted(
            name
            for name, status in self.statuses.items()
            if status not in DETECTED and name not in self.equivalents
        )


def read_equivalents(path: Path = EQUIVALENTS_FILE) -> dict[str, str]:
    """{mutant name: reason} from the equivalents list; a line without a reason is an error."""
    listed: dict[str, str] = {}
    if not path.exists():
        return listed
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, reason = line.partition(":")
        if not sep or not reason.strip():
            raise ValueError(f"{path.name}:{number}: expected '<mutant>: <reason>', got {raw!r}")
        listed[name.strip()] = reason.strip()
    return listed


def module_slug(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".")


def mutmut_section(module: str, tests: str) -> str:
    """The [tool.mutmut] configuration of one module's run (TOML)."""
    target = f"{PACKAGE}/{module}"
    return (
        "\n[tool.mutmut]\n"
        f'source_paths = ["{PACKAGE}"]\n'
        f'only_mutate = ["{target}"]\n'
        f'pytest_add_cli_args_test_selection = ["{tests}"]\n'
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-m", "not browser and not gpu"]\n'
        # the fork server keeps torch and pytest out of mutmut's own process (not fork-safe)
        'process_isolation = "forkserver"\n'
        # a slow, loaded machine: generous time-outs so a slow test is not called a kill
        "timeout_multiplier = 20.0\n"
        "timeout_constant = 10.0\n"
        "use_git_change_detection = false\n"
    )


def preload_block() -> str:
    """Lines for the scratch conftest: import :data:`PRELOAD` (the ones installed), and a
    Hypothesis profile that draws the same examples for every mutant and keeps no database."""
    return (
        "\n\n# added by scripts/mutation.py: modules the tests import lazily, loaded once\n"
        "import importlib.util as _util\n"
        "import importlib as _importlib\n\n"
        f"for _name in {PRELOAD!r}:\n"
        "    if _util.find_spec(_name.split('.')[0]) is not None:\n"
        "        _importlib.import_module(_name)\n"
        "\n# the same Hypothesis examples for every mutant, and no example database carried\n"
        "# from one mutant's failure into the next mutant's run\n"
        "if _util.find_spec('hypothesis') is not None:\n"
        "    from hypothesis import settings as _settings\n\n"
        "    _settings.register_profile('mutation', database=None, derandomize=True)\n"
        "    _settings.load_profile('mutation')\n"
    )


def prepare_scratch(module: str, tests: str, resume: bool = False) -> Path:
    """The scratch copy for one module's run: package, its tests, pyproject + config.

    Fresh unless ``resume``, which refreshes the files of an earlier run's copy in place
    and keeps mutmut's results (``mutants/``)."""
    scratch = SCRATCH / module_slug(module)
    if scratch.exists() and not resume:
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    shutil.copytree(ROOT / PACKAGE, scratch / PACKAGE, ignore=ignore, dirs_exist_ok=True)
    (scratch / "tests").mkdir(exist_ok=True)
    conftest = (ROOT / "tests" / "conftest.py").read_text()
    (scratch / "tests" / "conftest.py").write_text(conftest + preload_block())
    shutil.copytree(ROOT / tests, scratch / tests, ignore=ignore, dirs_exist_ok=True)
    for pattern in EXCLUDED_TESTS:
        for path in scratch.glob(pattern):
            path.unlink()
    pyproject = (ROOT / "pyproject.toml").read_text()
    if "[tool.mutmut]" in pyproject:
        raise ValueError("pyproject.toml has its own [tool.mutmut]; this script writes it")
    (scratch / "pyproject.toml").write_text(pyproject + mutmut_section(module, tests))
    return scratch


def read_statuses(scratch: Path, env: dict[str, str], module: str) -> dict[str, str]:
    """{mutant name: status} of one module's mutants, from ``mutmut results``."""
    listing = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    statuses = dict(re.findall(r"^\s*(\S+__mutmut_\d+): (.+?)\s*$", listing, flags=re.M))
    prefix = f"{PACKAGE}.{module_slug(module)}."
    return {name: s for name, s in statuses.items() if name.startswith(prefix)}


def run_mutmut(scratch: Path, env: dict[str, str], module: str, args: list[str]) -> None:
    """``mutmut run <args>`` in the scratch copy, its output appended to mutmut-run.log."""
    log = scratch / "mutmut-run.log"
    with log.open("a") as out:
        run = subprocess.run(
            [sys.executable, "-m", "mutmut", "run", *args],
            cwd=scratch,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if run.returncode != 0:
        print(log.read_text()[-4000:], file=sys.stderr)
        raise RuntimeError(f"mutmut run failed for {module} (exit {run.returncode}); log: {log}")


def run_module(
    module: str,
    tests: str,
    max_children: int,
    equivalents: dict[str, str],
    resume: bool = False,
) -> ModuleResult:
    """Mutate one module in its scratch copy and read back the status of every mutant."""
    scratch = prepare_scratch(module, tests, resume)
    env = worker_env()
    print(f"== {module}: mutmut in {scratch.relative_to(ROOT)} with {tests}", flush=True)
    start = time.monotonic()
    workers = ["--max-children", str(max_children)]
    resumable = resume and (scratch / "mutants").is_dir()
    earlier = read_statuses(scratch, env, module) if resumable else {}
    # mutmut maps tests to the functions they call once, and on a later run maps only tests
    # with new names: a test edited since would keep its old map and never meet the mutants
    # it now covers. Dropping the map makes mutmut rebuild it; the results are kept.
    (scratch / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    # every mutant without a result: all of them on a fresh copy, new or changed ones on resume
    run_mutmut(scratch, env, module, workers)
    # the earlier run's survivors (a mutant it never tested was tested just now)
    survivors = sorted(
        name for name, status in earlier.items() if status not in (*DETECTED, "not checked")
    )
    if survivors:  # named mutants are re-tested even though they have a result
        run_mutmut(scratch, env, module, [*workers, *survivors])
    return module_result(module, scratch, env, equivalents, time.monotonic() - start)


def worker_env() -> dict[str, str]:
    """The environment of mutmut and its workers: :data:`WORKER_ENV`, without PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only the mutants import
    env.update(WORKER_ENV)
    return env


def module_result(
    module: str, scratch: Path, env: dict[str, str], equivalents: dict[str, str], seconds: float
) -> ModuleResult:
    """The status of every mutant of a module's scratch run, and its listed equivalents."""
    statuses = read_statuses(scratch, env, module)
    prefix = f"{PACKAGE}.{module_slug(module)}."
    mine = {name for name in equivalents if name.startswith(prefix)}
    stale = sorted(name for name in mine if statuses.get(name) != "survived")
    for name in stale:
        print(f"   stale equivalent (now {statuses.get(name, 'absent')}): {name}", flush=True)
    surviving_equivalents = {name for name in mine if statuses.get(name) == "survived"}
    return ModuleResult(module, statuses, surviving_equivalents, seconds)


def print_table(results: list[ModuleResult]) -> None:
    header = (
        "| module | mutants | killed | survived | timeout/suspicious | score | score w/ equiv. |"
    )
    print("\n" + header)
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        other = r.total - r.count("killed", "survived")
        print(
            f"| {r.module} | {r.total} | {r.count('killed')} | {r.count('survived')} | "
            f"{other} | {r.score():.1f} % | {r.score(True):.1f} % |"
        )
    print(
        "\nscore = (killed + timeout) / mutants; 'w/ equiv.' also counts the survivors listed in "
        f"{EQUIVALENTS_FILE.relative_to(ROOT)} as killed."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--module",
        action="append",
        choices=sorted(MODULES),
        help="a module of MODULES (relative to course_lib/); repeatable; default: all",
    )
    parser.add_argument(
        "--max-children", type=int, default=os.cpu_count() or 1, help="parallel mutant workers"
    )
    parser.add_argument(
        "--fail-under",
        type=float,
        default=90.0,
        help="exit 1 when a module's score with equivalents is below this (percent)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the earlier run's results; re-test only its survivors and new mutants",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="run nothing: print the table of the modules' existing scratch runs",
    )
    args = parser.parse_args(argv)
    if args.max_children < 1:
        parser.error(f"--max-children must be >= 1, got {args.max_children}")
    equivalents = read_equivalents()
    results = []
    for module in args.module or list(MODULES):
        if args.report:
            scratch = SCRATCH / module_slug(module)
            if not (scratch / "mutants").is_dir():
                print(f"== {module}: no scratch run in {scratch.relative_to(ROOT)}", flush=True)
                continue
            result = module_result(module, scratch, worker_env(), equivalents, 0.0)
        else:
            result = run_module(
                module, MODULES[module], args.max_children, equivalents, args.resume
            )
        print(
            f"   {result.total} mutants in {result.seconds:.0f} s; score {result.score():.1f} %",
            flush=True,
        )
        for name in result.survivors():
            print(f"   survived: {name} ({result.statuses[name]})")
        results.append(result)
    print_table(results)
    low = [r.module for r in results if not r.score(True) >= args.fail_under]
    if low:
        print(f"\nbelow {args.fail_under:g} %: {', '.join(low)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
