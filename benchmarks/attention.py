"""Attention benchmarks; prints JSON lines.

CPU (always): peak memory of standard vs tiled attention against N (bytes of live tensors,
``course_lib.attention.memory.peak_tensor_bytes``), and their wall time.

GPU (when CUDA is present): first a correctness check of our Triton kernel against SDPA's math
backend (O, dQ, dK, dV; no timings if it fails); then for bf16, head dims 64 and 128, N in
{1k, 2k, 4k, 8k, 16k}, causal and not, batch x heads = (16384 / N) x (2048 / d) (16k tokens,
model width 2048), the median and 20/80 % quantiles (ms) and TFLOP/s of the forward, the
backward alone and forward + backward, for ours and SDPA's flash, memory-efficient and cuDNN
backends in the same run, with our chosen block configs and the versions (torch, triton, CUDA,
device). FLOPs: 4 B H N^2 d forward (halved when causal), backward 2.5x, both 3.5x forward.
A ratio line ours / SDPA-flash per phase, with PASS/FAIL against the targets (forward >= 1.2x,
forward + backward >= 1.0x, for N >= 4k), and one overall line; the exit code is 1 on FAIL.

Without CUDA: the CPU memory benchmark, then one JSON line saying that no timing was made.

Usage: python benchmarks/attention.py [--cpu-only] [--ns 1024 2048 ...] [--dims 64 128]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from course_lib.attention import attention_flops, standard_attention, tiled_attention_forward
from course_lib.attention.memory import peak_tensor_bytes


def emit(**record: object) -> None:
    print(json.dumps(record), flush=True)


def cpu_memory(ns: list[int], d: int = 64, heads: int = 4) -> None:
    for n in ns:
        q, k, v = (torch.randn(1, heads, n, d) for _ in range(3))
        for name, fn, kw in (
            ("standard", standard_attention, {}),
            ("tiled", tiled_attention_forward, {"block_q": 128, "block_k": 128}),
        ):
            start = time.perf_counter()
            _, peak = peak_tensor_bytes(fn, q, k, v, **kw)
            emit(bench="attention_peak_memory", device="cpu", impl=name, n=n, d=d, heads=heads,
                 dtype="float32", peak_bytes=peak, seconds=time.perf_counter() - start)  # fmt: skip


# Targets on H100 bf16, N >= 4k: ours / SDPA's flash backend.
TARGETS = {"fwd": 1.2, "fwd_bwd": 1.0}
TARGET_MIN_N = 4096
QUANTILES = [0.5, 0.2, 0.8]


def _sdpa(backend):
    from torch.nn.attention import sdpa_kernel

    def run(q, k, v, causal):
        with sdpa_kernel([backend]):
            return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)

    return run


def _versions() -> dict[str, str]:
    import triton

    return {
        "torch": torch.__version__,
        "triton": triton.__version__,
        "cuda": str(torch.version.cuda),
        "device": torch.cuda.get_device_name(),
        "capability": "sm_{}{}".format(*torch.cuda.get_device_capability()),
    }


def _bench(do_bench, fn, rep_ms: int) -> dict[str, float]:
    """Median and 20/80 % quantiles in milliseconds (CUDA events, L2 flushed per run)."""
    med, q20, q80 = do_bench(fn, quantiles=QUANTILES, warmup=max(25, rep_ms // 4), rep=rep_ms)
    return {"ms": med, "ms_q20": q20, "ms_q80": q80}


def _time_all(do_bench, fn, q, k, v, causal: bool, rep_ms: int) -> dict[str, dict[str, float]]:
    """Forward, backward alone (graph kept, gradients only) and forward + backward."""
    out = fn(q, k, v, causal)
    d_out = torch.randn_like(out)
    times = {"fwd": _bench(do_bench, lambda: fn(q, k, v, causal), rep_ms)}
    times["bwd"] = _bench(
        do_bench,
        lambda: torch.autograd.grad(out, (q, k, v), d_out, retain_graph=True),
        rep_ms,
    )
    times["fwd_bwd"] = _bench(
        do_bench, lambda: torch.autograd.grad(fn(q, k, v, causal), (q, k, v), d_out), rep_ms
    )
    return times


def check_correctness(impl, reference, d: int, causal: bool) -> float:
    """Largest error of O, dQ, dK, dV of ``impl`` against fp32 ``reference`` (bf16 inputs)."""
    g = torch.Generator(device="cuda").manual_seed(0)
    q, k, v = (
        torch.randn(2, 4, 1000, d, device="cuda", dtype=torch.bfloat16, generator=g)
        for _ in range(3)
    )
    d_out = torch.randn(2, 4, 1000, d, device="cuda", dtype=torch.bfloat16, generator=g)
    errs = []
    ours = [t.clone().requires_grad_() for t in (q, k, v)]
    ref = [t.float().requires_grad_() for t in (q, k, v)]
    out = impl(*ours, causal)
    want = reference(*ref, causal)
    errs.append((out.float() - want).abs().max().item())
    grads = torch.autograd.grad(out, ours, d_out)
    ref_grads = torch.autograd.grad(want, ref, d_out.float())
    for a, b in zip(grads, ref_grads, strict=True):
        errs.append(((a.float() - b).abs().max() / max(1.0, b.abs().max().item())).item())
    return max(errs)


def gpu_throughput(ns: list[int], dims: list[int], rep_ms: int) -> bool:
    """Time ours and SDPA's backends; emit TFLOP/s, ratios and PASS/FAIL; True if all pass."""
    from torch.nn.attention import SDPBackend
    from triton.testing import do_bench

    from course_lib.attention import triton_kernel as tk

    ours = lambda q, k, v, causal: tk.flash_attention(q, k, v, is_causal=causal)  # noqa: E731
    impls = {
        "ours": ours,
        "sdpa_flash": _sdpa(SDPBackend.FLASH_ATTENTION),
        "sdpa_efficient": _sdpa(SDPBackend.EFFICIENT_ATTENTION),
        "sdpa_cudnn": _sdpa(SDPBackend.CUDNN_ATTENTION),
    }
    math = _sdpa(SDPBackend.MATH)
    versions = _versions()
    emit(bench="attention_versions", **versions)
    # correctness first: a fast wrong kernel is not a result
    ok = True
    for d in dims:
        for causal in (False, True):
            err = check_correctness(ours, math, d, causal)
            good = err < 6.4e-2
            ok &= good
            emit(bench="attention_correctness", d=d, is_causal=causal, max_error=err,
                 status="PASS" if good else "FAIL")  # fmt: skip
    if not ok:
        emit(bench="attention_tflops", skipped="correctness check failed: no timings")
        return False
    all_pass = True
    for d in dims:
        for n in ns:
            batch, heads = max(1, 16384 // n), 2048 // d
            for causal in (False, True):
                fwd_flops = attention_flops(batch * heads, n, d, is_causal=causal)
                flops = {"fwd": fwd_flops, "bwd": 2.5 * fwd_flops, "fwd_bwd": 3.5 * fwd_flops}
                # longer runs for the long sequences: enough repetitions for stable quantiles
                rep = rep_ms * max(1, n // 4096)
                tflops: dict[str, dict[str, float]] = {}
                for name, fn in impls.items():
                    q, k, v = (torch.randn(batch, heads, n, d, device="cuda", dtype=torch.bfloat16,
                                           requires_grad=True) for _ in range(3))  # fmt: skip
                    try:
                        times = _time_all(do_bench, fn, q, k, v, causal, rep)
                    except RuntimeError as err:  # backend not available for this shape/device
                        emit(bench="attention_tflops", impl=name, d=d, n=n, is_causal=causal,
                             error=str(err).splitlines()[0][:200])  # fmt: skip
                        continue
                    tflops[name] = {p: flops[p] / (t["ms"] * 1e-3) / 1e12 for p, t in times.items()}
                    record = dict(bench="attention_tflops", impl=name, dtype="bfloat16", d=d, n=n,
                                  batch=batch, heads=heads, is_causal=causal)  # fmt: skip
                    for p, t in times.items():
                        record.update({f"{p}_{key}": val for key, val in t.items()})
                        record[f"{p}_tflops"] = tflops[name][p]
                    if name == "ours":
                        record["configs"] = {kd: list(c) for kd, c in tk.LAST_CONFIGS.items()}
                    emit(**record, **versions)
                if "ours" in tflops and "sdpa_flash" in tflops:
                    for phase in ("fwd", "bwd", "fwd_bwd"):
                        ratio = tflops["ours"][phase] / tflops["sdpa_flash"][phase]
                        target = TARGETS.get(phase)
                        status = "INFO"
                        if target is not None and n >= TARGET_MIN_N:
                            status = "PASS" if ratio >= target else "FAIL"
                            all_pass &= ratio >= target
                        emit(bench="attention_ratio", vs="sdpa_flash", phase=phase, d=d,
                             n=n, is_causal=causal, ratio=ratio, target=target,
                             status=status)  # fmt: skip
    emit(bench="attention_targets", status="PASS" if all_pass else "FAIL", targets=TARGETS,
         min_n=TARGET_MIN_N, device=versions["device"])  # fmt: skip
    return all_pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-only", action="store_true")
    parser.add_argument("--cpu-ns", type=int, nargs="+", default=[256, 512, 1024, 2048])
    parser.add_argument("--ns", type=int, nargs="+", default=[1024, 2048, 4096, 8192, 16384])
    parser.add_argument("--dims", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--rep-ms", type=int, default=200, help="timing window per figure")
    args = parser.parse_args()
    cpu_memory(args.cpu_ns)
    if args.cpu_only or not torch.cuda.is_available():
        emit(
            bench="attention_tflops",
            skipped="no CUDA device" if not args.cpu_only else "--cpu-only",
        )
        return
    if not gpu_throughput(args.ns, args.dims, args.rep_ms):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
