"""Run kernels/cuda/*.cu on the CPU: a stand-in for CuPy's RawModule, for machines without a GPU.

Each .cu file is compiled by g++ with cuda_emu.h (CUDA's keywords and built-ins, written for the
CPU) into a shared library, together with one generated launcher per kernel;
``build([path], dir)[file].get_function(name)`` returns a kernel that is launched like a CuPy
RawKernel, ``kernel(grid, block, args)``: one OS thread per CUDA thread, the blocks one after
another. Before launching, every argument is checked against the kernel's C signature (parsed
from the preprocessed source): arrays must have the dtype of the pointer, numbers the exact
NumPy type of the parameter (np.int32 for ``int``, np.int64 for ``long long``), because CuPy
copies arguments into the launch byte by byte and a wrong width shifts every argument after it.

With ``CUDA_EMU_ASAN=1`` the libraries are built with AddressSanitizer; run Python with
``LD_PRELOAD=$(g++ -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0`` so that any read
or write past the end of an array stops the run with a report.
"""

from __future__ import annotations

import ctypes
import hashlib
import math
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

HEADER = Path(__file__).with_name("cuda_emu.h")
POINTERS = {"float*": np.float32, "double*": np.float64, "long long*": np.int64, "int*": np.int32,
            "signed char*": np.int8, "unsigned char*": np.uint8}  # fmt: skip
SCALARS = {"int": (np.int32, ctypes.c_int32), "long long": (np.int64, ctypes.c_int64)}


def compiler() -> str | None:
    """The C++ compiler the emulator uses (g++), or None."""
    return shutil.which("g++")


def _preprocess(source: Path) -> str:
    """The source with its macros expanded and its comments gone (CUDA's keywords stay as words)."""
    command = ["g++", "-E", "-P", "-x", "c++", "-std=c++17", str(source)]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def _signatures(expanded: str) -> dict[str, list[tuple[str, str]]]:
    """{kernel name: [(C type, parameter name), ...]} for every extern "C" __global__ function."""
    pattern = r'extern\s+"C"\s+__global__\s+void\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?(\w+)\s*\(([^)]*)\)'
    kernels = {}
    for name, params in re.findall(pattern, expanded):
        parsed = []
        for param in params.split(","):
            words = param.replace("*", " * ").split()
            words = [w for w in words if w not in ("const", "__restrict__")]
            parsed.append((" ".join(words[:-1]).replace(" *", "*"), words[-1]))
        kernels[name] = parsed
    return kernels


C_TYPES = {**{t: t for t in POINTERS}, "int": "int", "long long": "long long"}


def _launcher(name: str, params: list[tuple[str, str]], concurrent: bool) -> str:
    """C++ for ``emu_launch_<name>(grid, block, kernel arguments...)``, which runs the kernel's grid."""
    declared = ", ".join(f"{C_TYPES[t]} {p}" for t, p in params)
    passed = ", ".join(p for _, p in params)
    mode = "true" if concurrent else "false"
    return (
        f'extern "C" void emu_launch_{name}(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, '
        f"unsigned bz, {declared})\n"
        f"{{ emu_launch<{mode}>({{gx, gy, gz}}, {{bx, by, bz}}, [&] {{ {name}({passed}); }}); }}\n"
    )


class EmuKernel:
    """One kernel of an EmuModule, launched as ``kernel(grid, block, args)``."""

    def __init__(self, library: ctypes.CDLL, name: str, params: list[tuple[str, str]]):
        self.name, self.params = name, params
        self.launcher = getattr(library, f"emu_launch_{name}")
        self.launcher.restype = None
        self.launches: list[tuple[tuple[int, ...], tuple[int, ...]]] = []

    def _arguments(self, args: tuple[Any, ...]) -> list[Any]:
        if len(args) != len(self.params):
            raise TypeError(f"{self.name}: takes {len(self.params)} arguments, got {len(args)}")
        converted = []
        for arg, (ctype, pname) in zip(args, self.params):
            if ctype in POINTERS:
                if not isinstance(arg, np.ndarray) or arg.dtype != POINTERS[ctype]:
                    got = arg.dtype if isinstance(arg, np.ndarray) else type(arg).__name__
                    raise TypeError(f"{self.name}: parameter {pname} is {ctype}, got {got}")
                converted.append(ctypes.c_void_p(arg.ctypes.data))
            else:
                numpy_type, c_type = SCALARS[ctype]
                if type(arg) is not numpy_type:
                    raise TypeError(
                        f"{self.name}: parameter {pname} is a C {ctype}: pass np.{numpy_type.__name__}, "
                        f"got {type(arg).__name__}"
                    )
                converted.append(c_type(int(arg)))
        return converted

    def __call__(self, grid: tuple[int, ...], block: tuple[int, ...], args: tuple[Any, ...], **_: Any) -> None:
        grid = tuple(int(g) for g in grid) + (1,) * (3 - len(grid))
        block = tuple(int(b) for b in block) + (1,) * (3 - len(block))
        if min(grid) < 1 or min(block) < 1:
            raise ValueError(f"{self.name}: CUDA refuses an empty launch: grid {grid}, block {block}")
        if grid[0] >= 2**31 or grid[1] > 65535 or grid[2] > 65535 or math.prod(block) > 1024:
            raise ValueError(f"{self.name}: grid {grid} or block {block} beyond CUDA's limits")
        cargs = self._arguments(args)
        self.launches.append((grid, block))
        self.launcher(*(ctypes.c_uint(v) for v in grid + block), *cargs)


class EmuModule:
    """The emulated counterpart of a compiled ``cupy.RawModule``: make them with ``build``."""

    def __init__(self, source: Path, signatures: dict[str, list[tuple[str, str]]], library: Path):
        self.source, self.signatures = source, signatures
        self.library = ctypes.CDLL(str(library))
        self.kernels: dict[str, EmuKernel] = {}

    def get_function(self, name: str) -> EmuKernel:
        """The kernel ``name``, as RawModule.get_function."""
        if name not in self.kernels:
            if name not in self.signatures:
                raise AttributeError(f'{self.source.name} has no extern "C" kernel {name!r}')
            self.kernels[name] = EmuKernel(self.library, name, self.signatures[name])
        return self.kernels[name]


def build(sources: list[Path], build_dir: Path) -> dict[str, EmuModule]:
    """{file name: EmuModule} for the .cu files, compiled concurrently.

    A library is reused from ``build_dir`` while its source, the header and the compiler command
    are unchanged (the file name carries their hash).
    """
    command = ["g++", "-std=c++17", "-O0", "-shared", "-fPIC", "-pthread", "-w"]
    if os.environ.get("CUDA_EMU_ASAN") == "1":
        command += ["-fsanitize=address", "-fno-omit-frame-pointer"]
    build_dir = Path(build_dir)
    plans, running = [], []
    for source in map(Path, sources):
        expanded = _preprocess(source)
        signatures = _signatures(expanded)
        for name, params in signatures.items():
            for ctype, pname in params:
                if ctype not in C_TYPES:
                    raise TypeError(f"{name}: the emulator does not know the C type {ctype!r} of {pname}")
        # threads that wait for each other (__syncthreads) must run concurrently; others may run in turn
        concurrent = "__syncthreads" in expanded
        unit = f'#include "{HEADER}"\n#include "{source.resolve()}"\n' + "".join(
            _launcher(name, params, concurrent) for name, params in signatures.items()
        )
        key = hashlib.sha256("\0".join([unit, HEADER.read_text(), source.read_text(), *command]).encode()).hexdigest()
        library = build_dir / f"{source.stem}-{key[:16]}.so"
        plans.append((source, signatures, library))
        if not library.exists():
            unit_path = build_dir / f"{source.stem}-{key[:16]}.cpp"
            unit_path.write_text(unit)
            partial = library.with_suffix(f".{os.getpid()}.tmp")
            process = subprocess.Popen(
                [*command, str(unit_path), "-o", str(partial)], stderr=subprocess.PIPE, text=True
            )
            running.append((source, process, partial, library))
    for source, process, partial, library in running:
        _, errors = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"g++ could not build the emulated {source.name}:\n{errors}")
        os.replace(partial, library)  # atomic: a concurrent test run never loads a half-written file
    return {source.name: EmuModule(source, signatures, library) for source, signatures, library in plans}
