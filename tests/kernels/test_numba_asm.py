"""The hot Numba kernels compile to what their docstrings promise, on every x86-64 CPU a learner may have.

Each CPU name gets its own subprocess with NUMBA_CPU_NAME set, NUMBA_CPU_FEATURES empty (LLVM then
takes that CPU's own features, as it does for a named CPU) and a throwaway NUMBA_CACHE_DIR; the host
runs with neither variable set. The subprocess (asm_probe.py) only compiles, so a CPU the build machine
does not have is checked too. From the assembly of each kernel:

- matmul and conv micro-kernels (the k-loop): at least MR·NV packed FMAs (8 for the dw dot tile, RUNS·RUN
  for the filters-across-lanes tile), all on
  the target's widest registers: ymm on haswell and znver3 (AVX2), zmm on the AVX-512 CPUs;
- max and average pooling: the compares/selects or adds of the tap loop on the widest registers (the
  2×2 max pool's backward: its index compares and zips);
- the k-loop holds no load or store on the stack (the accumulators stay in registers), the pools' hot
  loop stores no vector to the stack (reloading a loop bound or a constant is allowed there); the
  weight gradient's lanes tile is held to that on AVX-512 only, the one ISA that uses it;
- no gather or scatter instruction anywhere in the compiled code of these kernels, their callees included,
  nor in the loops that pack matmul panels, store tiles, place images on the conv canvas or scatter the
  pools' gradients;
- on the AVX2 targets no zmm register at all: the ISA really follows NUMBA_CPU_NAME.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("numba")
import llvmlite.binding as ll  # noqa: E402

PROBE = Path(__file__).with_name("asm_probe.py")
WIDEST = {"haswell": "ymm", "znver3": "ymm", "skylake-avx512": "zmm", "icelake-server": "zmm", "znver4": "zmm"}
CPUS = [*WIDEST, "host"]
FMA_KERNELS = {
    "_micro_kernel": "mr_nv",
    "_shifted_kernel": "mr_nv",
    "_shifted_row_kernel": "mr_nv",
    "_shifted_column_kernel": 6,  # MR FMAs of one vector each per step
    "_lanes_kernel": "runs",  # RUNS·RUN: 4 runs of 5 positions with 32 registers, 2 with 16
    "_lanes_weight_kernel": "runs",  # the same tile for dw: 4 runs of 5 taps
    "_dot_tile": 8,
}
POOL_KERNELS = ("_max_pool", "_max_pool_2x2", "_max_pool_backward_2x2", "_avg_pool")
COPIES = ("_pack_a", "_pack_b", "_store_tile", "_place_on_canvas", "_max_pool_backward", "_avg_pool_backward")
ALL_KERNELS = (*FMA_KERNELS, *POOL_KERNELS, *COPIES)

pytestmark = pytest.mark.skipif(not ll.get_process_triple().startswith("x86_64"), reason="x86-64 CPU names")


def _probe(cpu: str, cache: Path) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    env.pop("NUMBA_CPU_NAME", None)
    env.pop("NUMBA_CPU_FEATURES", None)
    if cpu != "host":
        env.update(NUMBA_CPU_NAME=cpu, NUMBA_CPU_FEATURES="")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(PROBE)], env=env, cwd=root, capture_output=True, text=True, timeout=600
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def _widest_of_host() -> str:
    from tinygrad_edu.kernels import numba_compile

    isa = numba_compile.isa()
    return "zmm" if isa.startswith("AVX-512") else "ymm" if isa.startswith("AVX") else "xmm"


@pytest.mark.parametrize("cpu", CPUS)
def test_hot_kernels_compile_to_widest_packed_vectors_without_gathers_or_stack_traffic(cpu, tmp_path):
    report = _probe(cpu, tmp_path)
    widest = WIDEST.get(cpu) or _widest_of_host()
    assert report["cpu"] == (cpu if cpu != "host" else ll.get_host_cpu_name())
    assert report["vector_bytes"] == {"xmm": 16, "ymm": 32, "zmm": 64}[widest], report["isa"]
    mr, nv = report["mr_nv"]
    kernels = report["kernels"]
    assert sorted(kernels) == sorted(ALL_KERNELS)
    problems = []
    for name, k in kernels.items():
        where = f"{cpu} ({report['isa']}) {name}"
        if not k["found"]:
            problems.append(f"{where}: its function is not in the assembly")
        if k["gathers"]:
            problems.append(f"{where}: gather/scatter instructions {k['gathers']}")
        if name not in FMA_KERNELS and name not in POOL_KERNELS:
            continue  # packing, placing and scattering loops: only the gather check
        widths = k["loop_widths"]
        need = {"mr_nv": mr * nv, "runs": mr * nv // 5 * 5}.get(FMA_KERNELS.get(name), FMA_KERNELS.get(name, 1))
        if widths[widest] < need:
            problems.append(
                f"{where}: {widths[widest]} packed {k['kind']} ops on {widest} in its hot loop, need {need}"
            )
        narrower = {r: n for r, n in widths.items() if r != widest and n}
        if narrower and name in FMA_KERNELS:
            problems.append(f"{where}: FMAs on narrower registers in the hot loop {narrower}")
        # FMA tiles: no stack operand at all in the k-loop. Pools: no vector stored to the stack (a
        # best/winner vector that does not fit the registers would be stored and reloaded every
        # iteration; a loop bound or a constant ramp reloaded from the stack costs a read from L1)
        stack = k["loop_stack"] if name in FMA_KERNELS else k["loop_vector_spills"]
        if stack and not (name == "_lanes_weight_kernel" and widest != "zmm"):  # used on AVX-512 only
            problems.append(f"{where}: stack traffic in the hot loop: {stack[:4]}")
        if widest == "ymm" and "zmm" in k["loop"]:
            problems.append(f"{where}: zmm registers on an AVX2 target")
    assert not problems, "\n".join(problems) + "\n\n" + kernels.get("_micro_kernel", {}).get("loop", "")
