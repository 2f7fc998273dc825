"""Install the PyTorch build that fits this machine into the running interpreter's env.

Called by ``make setup`` with the venv's Python. The rule, said in one line at the end:

* an NVIDIA driver is present (``nvidia-smi -L`` works): the default CUDA build;
* macOS or Windows: the default build (CPU, with MPS on Apple silicon);
* Linux without a driver: a CPU build only. pip's own choice is taken when it already is
  a CPU build (a wheel on a local index or find-links); otherwise the CPU build comes
  from PyTorch's CPU index with every other package from PyPI. If neither is reachable
  the script stops with one line instead of pulling the multi-GB CUDA build; set
  ``TORCH_BUILD=cuda`` to accept that build anyway.

pip's output is captured and shown only when the install fails, so a fallback that is
part of the plan never prints an alarming ERROR line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import urllib.request

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PYPI_INDEX = "https://pypi.org/simple"


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    """Run this interpreter's pip quietly, capturing its output."""
    cmd = [sys.executable, "-m", "pip", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def nvidia_driver_present() -> bool:
    """True when ``nvidia-smi -L`` lists a GPU."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    return subprocess.run([smi, "-L"], capture_output=True, check=False).returncode == 0


def default_choice_is_cpu_build(requirement: str, constraints: str) -> bool:
    """Would plain ``pip install requirement`` take a CPU build (no ``nvidia-*`` deps)?"""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        result = pip(
            "install", "--dry-run", "--ignore-installed", "--no-deps", "--quiet",
            "-c", constraints, "--report", report, requirement,
        )  # fmt: skip
        if result.returncode != 0:
            return False
        with open(report, encoding="utf-8") as f:
            items = json.load(f).get("install", [])
    for item in items:
        if item["metadata"]["name"].lower() == "torch":
            requires = item["metadata"].get("requires_dist", [])
            return not any(r.lower().startswith("nvidia-") for r in requires)
    return False


def reachable(url: str, timeout: float = 10.0) -> bool:
    """True when ``url`` answers (used to probe PyTorch's CPU index)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except OSError:
        return False


def install(args: list[str], what: str) -> None:
    """Install or exit with pip's captured output and one explaining line."""
    result = pip("install", "--quiet", *args)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit(f"install_torch: could not install {what}; pip's output is above")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True, help="torch version, e.g. 2.13.0")
    parser.add_argument("--constraints", required=True, help="pip constraints file")
    parser.add_argument("--cpu-index", default=os.environ.get("TORCH_CPU_INDEX", CPU_INDEX))
    args = parser.parse_args(argv)
    requirement = f"torch=={args.version}"
    build = os.environ.get("TORCH_BUILD", "auto").lower()
    if build not in {"auto", "cpu", "cuda"}:
        sys.exit(f"install_torch: TORCH_BUILD must be auto, cpu or cuda, got {build!r}")
    constraints = ["-c", args.constraints]

    if build == "cuda" or (build == "auto" and nvidia_driver_present()):
        why = "TORCH_BUILD=cuda" if build == "cuda" else "an NVIDIA driver was found"
        install([*constraints, requirement], "the CUDA build")
        print(f"torch {args.version}: installed the default CUDA build ({why})")
    elif build == "auto" and platform.system() != "Linux":
        install([*constraints, requirement], "the default build")
        print(f"torch {args.version}: installed the default build ({platform.system()} wheels "
              "are CPU builds, with MPS on Apple silicon)")  # fmt: skip
    elif default_choice_is_cpu_build(requirement, args.constraints):
        install([*constraints, requirement], "the CPU build")
        print(f"torch {args.version}: installed the CPU build (no NVIDIA driver; pip's own "
              "index already offers a CPU build)")  # fmt: skip
    elif reachable(args.cpu_index.rstrip("/") + "/torch/"):
        cpu_index = ["--index-url", args.cpu_index, "--extra-index-url", PYPI_INDEX]
        install([*constraints, *cpu_index, f"{requirement}+cpu"], "the CPU build")
        print(f"torch {args.version}: installed the CPU build from {args.cpu_index} "
              "(no NVIDIA driver found)")  # fmt: skip
    else:
        sys.exit(
            f"install_torch: no NVIDIA driver, and no CPU build of torch {args.version} is "
            f"reachable ({args.cpu_index} did not answer); not installing the multi-GB CUDA "
            "build. Retry online, or run with TORCH_BUILD=cuda to accept the CUDA build."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
