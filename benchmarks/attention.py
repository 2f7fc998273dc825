"""Attention benchmarks; prints JSON lines.

CPU (always): peak memory of standard vs tiled attention against N (bytes of live tensors,
``course_lib.attention.memory.peak_tensor_bytes``), and their wall time.

GPU (when CUDA is present): for bf16, head dims 64 and 128, N in {1k, 2k, 4k, 8k, 16k}, causal
and not, batch x heads = (16384 / N) x (2048 / d) (16k tokens, model width 2048), the TFLOP/s
of our Triton kernel (forward, forward+backward) and of SDPA's flash, memory-efficient and
cuDNN backends in the same run. FLOPs: 4 B H N^2 d forward (halved when causal), backward
2.5x forward. Also ratio lines ours / SDPA-flash and ours / cuDNN.

Usage: python benchmarks/attention.py [--cpu-only] [--ns 1024 2048 ...]
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


def _sdpa(backend):
    from torch.nn.attention import sdpa_kernel

    def run(q, k, v, causal):
        with sdpa_kernel([backend]):
            return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)

    return run


def _time_fwd_and_fwd_bwd(do_bench, fn, q, k, v, causal: bool) -> tuple[float, float]:
    """Milliseconds of one forward and of one forward + backward (triton.testing.do_bench)."""
    ms_fwd = do_bench(lambda: fn(q, k, v, causal))
    d_out = torch.randn_like(fn(q, k, v, causal))

    def fwd_bwd():
        torch.autograd.grad(fn(q, k, v, causal), (q, k, v), d_out)

    return ms_fwd, do_bench(fwd_bwd)


def gpu_throughput(ns: list[int]) -> None:
    from torch.nn.attention import SDPBackend
    from triton.testing import do_bench

    from course_lib.attention.triton_kernel import flash_attention

    impls = {
        "ours": lambda q, k, v, causal: flash_attention(q, k, v, is_causal=causal),
        "sdpa_flash": _sdpa(SDPBackend.FLASH_ATTENTION),
        "sdpa_efficient": _sdpa(SDPBackend.EFFICIENT_ATTENTION),
        "sdpa_cudnn": _sdpa(SDPBackend.CUDNN_ATTENTION),
    }
    device_name = torch.cuda.get_device_name()
    for d in (64, 128):
        for n in ns:
            batch, heads = max(1, 16384 // n), 2048 // d
            for causal in (False, True):
                fwd_flops = attention_flops(batch * heads, n, d, is_causal=causal)
                results: dict[str, dict[str, float]] = {}
                for name, fn in impls.items():
                    q, k, v = (torch.randn(batch, heads, n, d, device="cuda", dtype=torch.bfloat16,
                                           requires_grad=True) for _ in range(3))  # fmt: skip
                    try:
                        ms_fwd, ms_fb = _time_fwd_and_fwd_bwd(do_bench, fn, q, k, v, causal)
                    except RuntimeError as err:  # backend not available for this shape/device
                        emit(bench="attention_tflops", impl=name, d=d, n=n, is_causal=causal,
                             error=str(err).splitlines()[0][:200])  # fmt: skip
                        continue
                    results[name] = {
                        "fwd": fwd_flops / (ms_fwd * 1e-3) / 1e12,
                        "fwd_bwd": 3.5 * fwd_flops / (ms_fb * 1e-3) / 1e12,
                    }
                    emit(bench="attention_tflops", device=device_name, impl=name, dtype="bfloat16",
                         d=d, n=n, batch=batch, heads=heads, is_causal=causal, ms_fwd=ms_fwd,
                         ms_fwd_bwd=ms_fb, tflops_fwd=results[name]["fwd"],
                         tflops_fwd_bwd=results[name]["fwd_bwd"])  # fmt: skip
                if "ours" in results:
                    ratio = {}
                    for other in ("sdpa_flash", "sdpa_cudnn"):
                        if other in results:
                            for kind in ("fwd", "fwd_bwd"):
                                ratio[f"{kind}_vs_{other}"] = (
                                    results["ours"][kind] / results[other][kind]
                                )
                    emit(bench="attention_ratio", d=d, n=n, is_causal=causal, **ratio)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-only", action="store_true")
    parser.add_argument("--cpu-ns", type=int, nargs="+", default=[256, 512, 1024, 2048])
    parser.add_argument("--ns", type=int, nargs="+", default=[1024, 2048, 4096, 8192, 16384])
    args = parser.parse_args()
    cpu_memory(args.cpu_ns)
    if args.cpu_only or not torch.cuda.is_available():
        emit(
            bench="attention_tflops",
            skipped="no CUDA device" if not args.cpu_only else "--cpu-only",
        )
        return
    gpu_throughput(args.ns)


if __name__ == "__main__":
    main()
