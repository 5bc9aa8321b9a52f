"""The CUDA kernels compile, name the entry points Python launches, and ship with the package.

No GPU is needed: nvcc compiles kernels/cuda/*.cu for two architectures (sm_80: A100, sm_90:
H100), and NVRTC, the run-time compiler CuPy uses, compiles them too where CuPy can load it.
Without nvcc these tests skip and say so.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CUDA_DIR = ROOT / "kernels" / "cuda"
ARCHS = ("sm_80", "sm_90")

# Every kernel kernels/cupy_cuda.py may launch, by file.
ENTRY_POINTS = {
    "sgemm.cu": [
        f"gemm_{t}_{a}{b}{v}"
        for t, vs in (("f32", ("", "_vec")), ("f64", ("",)))
        for a in "nt"
        for b in "nt"
        for v in vs
    ],
    "im2col.cu": [f"{k}_{t}" for k in ("im2col", "col2im") for t in ("f32", "f64")],
    "pool.cu": [
        f"{k}_{t}"
        for k in ("max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward")
        for t in ("f32", "f64")
    ],
    "gemm_int8.cu": ["gemm_s8s8", "gemm_u8s8"],
}


def test_every_cu_file_is_known():
    assert sorted(p.name for p in CUDA_DIR.glob("*.cu")) == sorted(ENTRY_POINTS)


@pytest.mark.parametrize("file", sorted(ENTRY_POINTS))
def test_no_includes_for_nvrtc(file):
    """CuPy compiles with NVRTC, which has no C++ standard library: the kernels include nothing."""
    source = (CUDA_DIR / file).read_text()
    assert not re.search(r"^\s*#\s*include", source, re.MULTILINE)


@pytest.fixture(scope="module")
def nvcc_results(tmp_path_factory):
    """{(file, arch): (return code, messages, output)} for every file and arch, compiled concurrently.

    sm_90 goes all the way to machine code with ptxas's resource report (-Xptxas -v); sm_80 to PTX.
    Warnings count as errors.
    """
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc is not installed here, so the CUDA kernels cannot be compile-checked")
    out = tmp_path_factory.mktemp("nvcc")
    running = {}
    for file in ENTRY_POINTS:
        for arch in ARCHS:
            target = out / f"{file}.{arch}"
            mode = ["-cubin", "-Xptxas", "-v"] if arch == "sm_90" else ["--ptx"]
            command = [nvcc, "-std=c++17", f"-arch={arch}", "-Werror", "all-warnings", *mode, "-o", str(target)]
            running[file, arch] = (
                subprocess.Popen([*command, str(CUDA_DIR / file)], stderr=subprocess.PIPE, text=True),
                target,
            )
    results = {}
    for key, (process, target) in running.items():
        _, messages = process.communicate()
        output = target.read_bytes().decode("latin-1") if target.exists() else ""
        results[key] = (process.returncode, messages, output)
    return results


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("file", sorted(ENTRY_POINTS))
def test_compiles_with_nvcc(nvcc_results, file, arch):
    code, messages, output = nvcc_results[file, arch]
    assert code == 0, f"nvcc failed on {file} for {arch}:\n{messages}"
    for kernel in ENTRY_POINTS[file]:
        if arch == "sm_90":  # ptxas lists every entry function it compiled
            assert f"Compiling entry function '{kernel}'" in messages, kernel
        else:
            assert re.search(rf"\.entry\s+{kernel}\s*\(", output), kernel  # unmangled: extern "C" worked


def test_fast_gemm_kernels_fit_in_registers(nvcc_results):
    """The float4 GEMM kernels must not spill registers to memory: 2 blocks of 256 threads per SM
    leave each thread 128 registers (__launch_bounds__(256, 2)), and a spill would put local-memory
    traffic into the inner loop."""
    _, messages, _ = nvcc_results["sgemm.cu", "sm_90"]
    reports = re.findall(r"Compiling entry function '(\w+)'.*?(\d+) bytes spill stores", messages, re.DOTALL)
    spills = {kernel: int(n) for kernel, n in reports}
    vec = [k for k in ENTRY_POINTS["sgemm.cu"] if k.endswith("_vec")]
    assert set(vec) <= set(spills)
    assert {k: spills[k] for k in vec} == dict.fromkeys(vec, 0)


def test_int8_gemm_uses_dp4a_and_fits_in_registers(nvcc_results):
    """Both int8 kernels multiply with dp4a (4 byte products per instruction), and ptxas spills nothing."""
    _, ptx_messages, ptx = nvcc_results["gemm_int8.cu", "sm_80"]
    for kernel in ENTRY_POINTS["gemm_int8.cu"]:
        body = ptx.split(f".entry {kernel}(", 1)[1].split(".entry ", 1)[0]
        assert re.search(r"\bdp4a\.s32\.s32\b", body), kernel
    _, messages, _ = nvcc_results["gemm_int8.cu", "sm_90"]
    reports = re.findall(r"Compiling entry function '(\w+)'.*?(\d+) bytes spill stores", messages, re.DOTALL)
    assert dict(reports) == dict.fromkeys(ENTRY_POINTS["gemm_int8.cu"], "0")


@pytest.mark.parametrize("file", sorted(ENTRY_POINTS))
def test_compiles_with_nvrtc(file):
    """The run-time compiler CuPy uses accepts every file (skips where CuPy or NVRTC is missing)."""
    nvrtc = pytest.importorskip("cupy_backends.cuda.libs.nvrtc", reason="CuPy is not installed")
    try:
        program = nvrtc.createProgram((CUDA_DIR / file).read_text(), file, (), ())
    except Exception as e:  # the NVRTC library itself could not be loaded
        pytest.skip(f"CuPy cannot load NVRTC here ({type(e).__name__}: {e})")
    try:
        nvrtc.compileProgram(program, ["-std=c++17", "-arch=compute_80"])
    except nvrtc.NVRTCError as e:
        pytest.fail(f"NVRTC rejected {file}: {e}\n{nvrtc.getProgramLog(program)}")
    finally:
        nvrtc.destroyProgram(program)


# ---------------------------------------------------------------------------------------------
# Shipping: the .cu files are package data of tinygrad_edu.kernels
# ---------------------------------------------------------------------------------------------


def _copy_tree(to: Path) -> Path:
    """What a build needs (pyproject, README, the two package folders), copied so builds leave no trace."""
    to.mkdir(parents=True, exist_ok=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, to / name)
    for folder in ("tinygrad_edu", "kernels"):
        shutil.copytree(ROOT / folder, to / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return to


def test_cu_files_are_package_data(tmp_path):
    """setuptools' build_py, the step of a wheel build that collects the packages, takes every .cu."""
    tree = _copy_tree(tmp_path)
    script = (
        "import sys; from setuptools import setup; "
        "sys.argv = ['setup.py', '-q', 'build_py', '--build-lib', 'lib']; setup()"
    )
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", script], cwd=tree, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    built = sorted(p.name for p in (tree / "lib" / "tinygrad_edu" / "kernels" / "cuda").glob("*.cu"))
    assert built == sorted(ENTRY_POINTS)


@pytest.mark.slow
def test_wheel_contains_the_cu_files(tmp_path):
    """The same through a real ``pip wheel`` (an isolated build downloads setuptools unless this
    environment can build wheels itself); marked slow: ~5 s offline, ~20 s isolated."""
    tree = _copy_tree(tmp_path / "tree")
    offline = importlib.util.find_spec("wheel") is not None
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(tree)]
    result = subprocess.run(command + (["--no-build-isolation"] if offline else []), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(n for n in names if n.endswith(".cu"))
    assert shipped == [f"tinygrad_edu/kernels/cuda/{f}" for f in sorted(ENTRY_POINTS)]
    assert "tinygrad_edu/kernels/cupy_cuda.py" in names
