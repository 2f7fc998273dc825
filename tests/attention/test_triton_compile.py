"""The Triton kernels compile for NVIDIA GPUs (sm_80, sm_90) as a real launch would.

The CPU interpreter runs kernels as NumPy code and accepts programs the GPU compiler rejects,
so a subprocess with TRITON_INTERPRET=0 compiles every kernel, for every autotuning config of
head dims 64 and 128 (bf16, causal: every loop stage present), all the way to a cubin with the
ptxas that ships with Triton; no GPU is needed. Each compile gets the specialisation hints a
real launch gets (pointers, strides and sequence lengths divisible by 16): without them the
compiler emits another kernel (plain loads, no cp.async pipeline, other registers).

Checked per compile: shared memory within the device limit wherever the kernel's own
estimate (used to prune the autotuner) says it fits, and the estimate an upper bound; no
register spills in the default configs (the first that fits; 16-bit inputs); Hopper tensor-core
instructions (wgmma) on sm_90; no block product computed twice, read from the compiled IR:
each product's MMA layout must cover its tile without replicated warps, and the backward must
run 7 block products per (query block, key block) pair (4 in dK/dV, 3 in dQ).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("triton")

#: opt-in shared memory per block: A100 (sm_80) 163 KB, H100 (sm_90) 227 KB
SHARED_LIMIT = {80: 166912, 90: 232448}

SCRIPT = textwrap.dedent(
    """
    import json, os, re, subprocess, sys, tempfile
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
    from course_lib.attention import triton_kernel as tk

    POINTERS = {"Q", "K", "V", "O", "DO", "DK", "DV", "DQ"}
    FP32_POINTERS = {"L", "DELTA"}
    FLOATS = {"qk_scale", "sm_scale"}
    DTYPES = {"bf16": 2, "fp16": 2, "fp32": 4}
    CUOBJDUMP = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin",
                             "cuobjdump")
    MMA = re.compile(r"^#(mma\\w*) = #ttg.nvidia_mma<\\{versionMajor = (\\d+).*?"
                     r"warpsPerCTA = \\[(\\d+), (\\d+)\\], instrShape = \\[(\\d+), (\\d+)", re.M)
    DOT = re.compile(r"= (?:ttng\\.warp_group_dot|tt\\.dot) "
                     r".*-> tensor<(\\d+)x(\\d+)xf32, #(mma\\w*)>")

    def compile_one(fn, dtype, constants, arch, warps, stages):
        # a real launch: 16-byte aligned pointers, integer arguments divisible by 16
        sig, attrs = {}, {}
        for i, name in enumerate(fn.arg_names):
            if name in constants:
                sig[name] = "constexpr"
                continue
            if name in FLOATS:
                sig[name] = "fp32"
                continue
            sig[name] = ("*" + dtype if name in POINTERS
                         else "*fp32" if name in FP32_POINTERS else "i32")
            attrs[(i,)] = [["tt.divisibility", 16]]
        out = triton.compile(ASTSource(fn, sig, constants, attrs),
                             target=GPUTarget("cuda", arch, 32),
                             options={"num_warps": warps, "num_stages": stages})
        with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
            f.write(out.asm["cubin"])
            f.flush()
            usage = subprocess.run([CUOBJDUMP, "-res-usage", f.name], capture_output=True,
                                   text=True, check=True).stdout
        res = dict(re.findall(r"(REG|STACK|LOCAL):(\\d+)", usage))
        ttgir = out.asm["ttgir"]
        layouts = {m[0]: tuple(map(int, m[1:])) for m in MMA.findall(ttgir)}
        reps = []
        for m, n, name in DOT.findall(ttgir):
            _, wm, wn, im, in_ = layouts[name]
            reps.append(max(1, wm * im // int(m)) * max(1, wn * in_ // int(n)))
        loops = max(1, len(re.findall(r"= scf\\.for ", ttgir)))
        return {
            "shared": out.metadata.shared, "registers": int(res["REG"]),
            "spill_bytes": int(res["STACK"]) + int(res["LOCAL"]),
            "wgmma": len(re.findall(r"wgmma\\.mma_async", out.asm["ptx"])),
            "products": len(reps), "replicated": sum(r > 1 for r in reps),
            "units_per_pair": sum(reps) / loops,
        }

    KERNELS = {"fwd": tk._fwd_kernel, "dkdv": tk._bwd_dkdv_kernel, "dq": tk._bwd_dq_kernel}
    cases = []
    for arch in (90, 80):
        for d in (64, 128):
            for kind, fn in KERNELS.items():
                for cfg in tk.kernel_configs(kind, d, arch):
                    cases.append((arch, "bf16", d, kind, cfg))
        # fp32 (TF32) takes twice the shared memory: its chosen backward configs must fit too
        for kind in ("dkdv", "dq"):
            limit = int(sys.argv[1 if arch == 80 else 2])
            cases.append((arch, "fp32", 128, kind, tk._fitting(kind, 128, 4, limit, arch)[0]))
    for arch, dtype, d, kind, cfg in cases:
        constants = dict(HEAD_DIM=d, BLOCK_D=d, BLOCK_M=cfg.block_m, BLOCK_N=cfg.block_n,
                         CAUSAL=True)
        rec = compile_one(KERNELS[kind], dtype, constants, arch, cfg.num_warps, cfg.num_stages)
        rec.update(arch=arch, dtype=dtype, d=d, kind=kind, config=list(cfg),
                   estimate=tk.shared_memory_estimate(kind, cfg, d, DTYPES[dtype]))
        print(json.dumps(rec), flush=True)
    pre = tk.PREPROCESS_CONFIG
    rec = compile_one(tk._bwd_preprocess_kernel, "bf16",
                      dict(HEAD_DIM=128, BLOCK_D=128, BLOCK_M=pre.block_m), 90,
                      pre.num_warps, pre.num_stages)
    rec.update(arch=90, dtype="bf16", d=128, kind="preprocess", config=list(pre), estimate=0)
    print(json.dumps(rec), flush=True)
    """
)


def _compile_records() -> list[dict]:
    env = {**os.environ, "TRITON_INTERPRET": "0", "TRITON_DEFAULT_FP_FUSION": "1"}
    res = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(SHARED_LIMIT[80]), str(SHARED_LIMIT[90])],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def records() -> list[dict]:
    recs = _compile_records()
    dump = os.environ.get("COURSE_COMPILE_RECORDS")  # optional: keep them for a report
    if dump:
        with open(dump, "w") as f:
            json.dump(recs, f)
    return recs


def _name(r: dict) -> str:
    return f"{r['kind']} sm_{r['arch']} {r['dtype']} d={r['d']} config={r['config']}"


@pytest.mark.slow
def test_every_config_compiles_and_fits_where_the_estimate_says(records):
    from course_lib.attention.triton_kernel import kernel_configs

    kinds, dims = ("fwd", "dkdv", "dq"), (64, 128)
    expected = sum(len(kernel_configs(k, d, a)) for a in (80, 90) for k in kinds for d in dims)
    assert len(records) == expected + 2 * 2 + 1, [_name(r) for r in records]
    for r in records:
        if r["kind"] == "preprocess":
            continue
        assert r["shared"] <= r["estimate"], f"{_name(r)}: {r['shared']} > estimate {r['estimate']}"
        if r["estimate"] <= SHARED_LIMIT[r["arch"]]:
            assert r["shared"] <= SHARED_LIMIT[r["arch"]], _name(r)


@pytest.mark.slow
def test_default_configs_do_not_spill(records):
    from course_lib.attention.triton_kernel import TileConfig, _fitting

    defaults = 0
    for r in records:
        if r["dtype"] == "fp32":  # TF32 is the teaching path: it must fit, spills are allowed
            continue
        default = (
            r["kind"] == "preprocess"
            or TileConfig(*r["config"])
            == (_fitting(r["kind"], r["d"], 2, SHARED_LIMIT[r["arch"]], r["arch"])[0])
        )
        defaults += default
        if default:
            assert r["spill_bytes"] == 0, f"{_name(r)} spills ({r['registers']} registers)"
    assert defaults == 2 * 2 * 3 + 1  # per arch and head dim: fwd, dK/dV, dQ; and Delta


@pytest.mark.slow
def test_hopper_uses_wgmma_and_no_product_is_duplicated(records):
    for r in records:
        if r["kind"] == "preprocess":
            continue
        if r["arch"] == 90:
            assert r["wgmma"] > 0, f"{_name(r)}: no wgmma in the PTX"
        assert r["replicated"] == 0, f"{_name(r)}: {r['replicated']} products computed twice"
    # block products per (query block, key block) pair in the backward: 4 + 3 = 7
    for arch in (80, 90):
        for d in (64, 128):
            for kind, units in (("dkdv", 4), ("dq", 3), ("fwd", 2)):
                for r in records:
                    if (r["arch"], r["d"], r["kind"], r["dtype"]) == (arch, d, kind, "bf16"):
                        assert r["units_per_pair"] == units, (_name(r), r["units_per_pair"])


if __name__ == "__main__":  # the compiled-resource table
    for r in _compile_records():
        print(
            f"{r['kind']:10s} sm_{r['arch']} {r['dtype']} d={r['d']:3d} "
            f"{str(tuple(r['config'])):18s} regs={r['registers']:3d} "
            f"smem={r['shared'] // 1024:3d}K (est {r['estimate'] // 1024:3d}K) "
            f"spill={r['spill_bytes']} wgmma={r['wgmma']} units/pair={r['units_per_pair']:g}"
        )
