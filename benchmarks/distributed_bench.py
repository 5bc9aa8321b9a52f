"""Data parallelism on this machine: epochs of the seed MLP and LeNet on 1 and 2 processes, and what the α–β
cost model says they would become on 8 and 64.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/distributed_bench.py [--out bench_out]
        [--kernels numpy|numba] [--cli] [--quick]

It launches itself under ``mpiexec -n 1`` and ``mpiexec -n 2`` (each process on one thread: OPENBLAS_NUM_THREADS=1,
NumPy kernels), so the two runs use one and two of this machine's cores. Each process trains on its 1/p of a
fixed global batch (the seed recipes: MLP 1000-500-10, Adam, batch 128; LeNet-5 on 3×32×32, SGD momentum 0.9,
batch 100), through DistributedDataParallel, whose ``comm_seconds`` counts the time spent in the gradient
all-reduce. With two processes it also times one-way messages of 8 B … 8 MB (ping-pong) and fits α (latency)
and β (seconds per byte); the projection to p processes is

    step(p) = compute(1)/p + 2(p − 1)·α + 2(p − 1)/p · n·β          (n: the gradient bytes)

which assumes compute scales perfectly and the same α, β: on one machine the messages go through shared memory;
across machines α and β are those of the network, larger.

It prints the note's table in Markdown (per model: epoch and all-reduce time on 1 and 2 processes, measured;
the α–β model at 2, to check it against the measurement, and at 8 and 64) and writes it, with α, β and every
timing, to ``OUT/distributed_summary.json``. ``--kernels`` picks the kernel backend of every process (default:
``TINYGRAD_EDU_KERNELS``, else numpy). ``--quick`` runs a few steps and repeats only, to check that the bench
works end to end (its figures are not for the note).

``--cli`` also times the command line itself: ``mpiexec -n p tinygrad-edu train --distributed`` on the bundled
digits (MLP and the small CNN that --model lenet builds for 8×8 images), global batch 64 (--batch-size 64/p),
the epoch seconds and their all-reduce seconds read from the run's history.json (median over the epochs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

EPOCH = {"mlp": (128, 20), "lenet": (100, 6)}  # global batch, steps per epoch
QUICK_STEPS = {"mlp": 3, "lenet": 2}
SIZES = [8, 1024, 64 * 1024, 1024**2, 8 * 1024**2]
NAMES = {"mlp": "seed MLP 1000-500-10, Adam", "lenet": "LeNet-5 3×32×32, SGD momentum"}


def _ping_pong(dist: object, tge: object, repeats: int = 20) -> list[tuple[int, float]]:
    """One-way time of a message of each size between ranks 0 and 1 (half the round trip, best of repeats)."""
    rank = dist.get_rank()
    found = []
    for nbytes in SIZES:
        x = tge.zeros(nbytes // 4)
        best = float("inf")
        for _ in range(repeats):
            dist.barrier()
            start = time.perf_counter()
            if rank == 0:
                dist.send(x, dst=1)
                dist.recv(x, src=1)
            elif rank == 1:
                dist.recv(x, src=0)
                dist.send(x, dst=0)
            best = min(best, (time.perf_counter() - start) / 2)
        found.append((nbytes, best))
    return found


def _epoch(model_name: str, dist: object, tge: object, quick: bool = False) -> dict[str, float]:
    """Seconds of one epoch (median of 3) and of its all-reduce, on this rank's share of each batch."""
    import tinygrad_edu.nn.functional as F
    from tinygrad_edu import nn, optim
    from tinygrad_edu.models import MLP, LeNet

    rank, world = dist.get_rank(), dist.get_world_size()
    batch, steps = EPOCH[model_name]
    steps = QUICK_STEPS[model_name] if quick else steps
    tge.manual_seed(0)
    model = MLP(1000, (500,), 10) if model_name == "mlp" else LeNet(3, 10, 32)
    ddp = nn.parallel.DistributedDataParallel(model)
    opt = optim.Adam(ddp.parameters(), lr=1e-3) if model_name == "mlp" else optim.SGD(ddp.parameters(), 0.01, 0.9)
    shape = (1000,) if model_name == "mlp" else (3, 32, 32)
    rng = np.random.default_rng(rank)
    local = batch // world
    x = tge.tensor(rng.normal(size=(local, *shape)).astype(np.float32))
    y = tge.tensor(rng.integers(0, 10, size=local))

    def step() -> None:
        loss = F.cross_entropy(ddp(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()
    step()  # warm-up
    epochs, comms = [], []
    for _ in range(1 if quick else 3):
        dist.barrier()
        ddp.comm_seconds = 0.0
        start = time.perf_counter()
        for _ in range(steps):
            step()
        epochs.append(time.perf_counter() - start)
        comms.append(ddp.comm_seconds)
    grad_bytes = sum(p.array.nbytes for p in model.parameters())
    alone = []  # the same all-reduce with both ranks arriving together: the transfer, without waiting for the other
    for _ in range(2 if quick else 10):
        flat = tge.zeros(grad_bytes // 4)
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(flat)
        alone.append(time.perf_counter() - start)
    return {"epoch_s": float(np.median(epochs)), "comm_s": float(np.median(comms)), "steps": steps,
            "batch": batch, "grad_bytes": grad_bytes, "allreduce_alone_s": float(np.median(alone))}  # fmt: skip


def worker(out: Path, quick: bool = False) -> None:
    """What each rank runs under mpiexec: the timings, written by rank 0 as JSON."""
    import tinygrad_edu as tge
    import tinygrad_edu.distributed as dist
    from tinygrad_edu import kernels

    dist.init_process_group("mpi")
    result = {"world": dist.get_world_size(), "kernels": kernels.current().__name__.rsplit(".", 1)[-1]}
    if dist.get_world_size() >= 2:
        result["ping_pong"] = _ping_pong(dist, tge, repeats=3 if quick else 20)
    for name in EPOCH:
        result[name] = _epoch(name, dist, tge, quick)
    if dist.get_rank() == 0:
        out.write_text(json.dumps(result, indent=1))
    dist.destroy_process_group()


def _env(kernels: str | None) -> dict[str, str]:
    """Every process on one thread (BLAS, OpenMP, Numba), with the chosen kernel backend."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    if kernels is not None:
        env["TINYGRAD_EDU_KERNELS"] = kernels
    return env


def _launch(processes: int, out: Path, kernels: str | None = None, quick: bool = False) -> dict:
    mpiexec = Path(sys.executable).with_name("mpiexec")
    command = str(mpiexec) if mpiexec.exists() else shutil.which("mpiexec")
    if command is None:
        sys.exit("no mpiexec: pip install mpi4py mpich")
    worker = [sys.executable, __file__, "--worker", str(out), *(["--quick"] if quick else [])]
    subprocess.run([command, "-n", str(processes), *worker], env=_env(kernels), check=True)
    return json.loads(out.read_text())


def _cli_epochs(processes: int, model: str, out: Path, epochs: int = 4, kernels: str | None = None) -> dict[str, float]:
    """Median epoch seconds and all-reduce seconds of ``mpiexec -n processes tinygrad-edu train --distributed``."""
    mpiexec = Path(sys.executable).with_name("mpiexec")
    command = str(mpiexec) if mpiexec.exists() else shutil.which("mpiexec")
    env = _env(kernels)
    run = out / f"cli-{model}-p{processes}"
    subprocess.run([command, "-n", str(processes), sys.executable, "-m", "tinygrad_edu.cli", "train", "--distributed",
                    "--model", model, "--epochs", str(epochs), "--batch-size", str(64 // processes), "--no-progress",
                    "--out", str(run)], env=env, check=True, capture_output=True)  # fmt: skip
    history = json.loads((run / "history.json").read_text())[1:]  # the first epoch also compiles / warms up
    return {"epoch_s": float(np.median([r["seconds"] for r in history])),
            "comm_s": float(np.median([r["comm_seconds"] for r in history]))}  # fmt: skip


def _rows(runs: dict[int, dict], alpha: float, beta: float) -> list[dict]:
    """The note's table: per model, p = 1 and 2 measured, then the α–β model at 2 (to check it), 8 and 64."""
    from tinygrad_edu.distributed.cost_model import ring_allreduce_seconds

    rows = []
    for name in EPOCH:
        one = runs[1][name]
        for p in (1, 2):
            r = runs[p][name]
            rows.append({"model": name, "processes": p, "epoch_s": r["epoch_s"], "allreduce_s": r["comm_s"],
                         "compute_s": r["epoch_s"] - r["comm_s"], "source": "measured"})  # fmt: skip
        compute_1 = one["epoch_s"] - one["comm_s"]
        for p in (2, 8, 64):
            comm = one["steps"] * ring_allreduce_seconds(p, one["grad_bytes"], alpha, beta)
            rows.append({"model": name, "processes": p, "epoch_s": compute_1 / p + comm, "allreduce_s": comm,
                         "compute_s": compute_1 / p, "source": "α–β model"})  # fmt: skip
        for row in rows[-5:]:
            row["speed_up"] = one["epoch_s"] / row["epoch_s"]
    return rows


def main() -> None:
    """Run 1 and 2 processes, print the measured table and the α–β projections."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("bench_out"))
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--kernels", choices=["numpy", "numba"], help="kernel backend (default: the environment's)")
    parser.add_argument("--quick", action="store_true", help="a few steps only: checks the bench, not for figures")
    parser.add_argument("--cli", action="store_true", help="also time tinygrad-edu train --distributed on digits")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.quick)
        return
    from tinygrad_edu.distributed.cost_model import fit_alpha_beta, ring_allreduce_seconds

    args.out.mkdir(parents=True, exist_ok=True)
    runs = {p: _launch(p, args.out / f"distributed_p{p}.json", args.kernels, args.quick) for p in (1, 2)}
    sizes, seconds = zip(*runs[2]["ping_pong"])
    alpha, beta = fit_alpha_beta(sizes, seconds)
    try:
        import llvmlite.binding as llvm

        cpu = llvm.get_host_cpu_name()
    except ImportError:
        cpu = "unknown"
    print(f"\nmachine: {os.cpu_count()} cores, LLVM CPU {cpu}; each process on 1 thread, kernels "
          f"{runs[2]['kernels']}{'  (--quick: a check of the bench, not figures)' if args.quick else ''}")  # fmt: skip
    for name in EPOCH:
        r = runs[1][name]
        print(f"epoch of the {NAMES[name]}: {r['steps']} steps of global batch {r['batch']} "
              f"({r['batch'] // 2} per process on 2), {r['grad_bytes']:,} gradient bytes per step")  # fmt: skip
    print(
        "one-way message time (ping-pong / 2): " + ", ".join(f"{n} B {t * 1e6:.1f} us" for n, t in zip(sizes, seconds))
    )
    print(f"alpha-beta fit (relative errors): alpha = {alpha * 1e6:.2f} us latency, beta = {beta * 1e9:.3f} ns/byte "
          f"({1 / beta / 1e9 if beta else float('inf'):.1f} GB/s)\n")  # fmt: skip
    rows = _rows(runs, alpha, beta)
    print("| model | processes | epoch ms | all-reduce ms | compute ms | speed-up | source |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for row in rows:
        print(f"| {row['model']} | {row['processes']} | {row['epoch_s'] * 1e3:.1f} | {row['allreduce_s'] * 1e3:.1f} | "
              f"{row['compute_s'] * 1e3:.1f} | {row['speed_up']:.2f}× | {row['source']} |")  # fmt: skip
    print("\nall-reduce ms = time in DDP's gradient all-reduce per epoch (measured: waiting for the slower rank "
          "included); compute ms = epoch − all-reduce; the model: compute(1)/p + steps · ring(p)")  # fmt: skip
    for name in EPOCH:
        r = runs[2][name]
        print(f"{name}: one all-reduce of its {r['grad_bytes']:,} gradient bytes alone, both ranks ready, takes "
              f"{r['allreduce_alone_s'] * 1e3:.2f} ms on 2 processes "
              f"(model: {ring_allreduce_seconds(2, r['grad_bytes'], alpha, beta) * 1e3:.2f} ms)")  # fmt: skip
    summary = {"machine": {"cores": os.cpu_count(), "cpu": cpu, "kernels": runs[2]["kernels"], "quick": args.quick},
               "alpha_s": alpha, "beta_s_per_byte": beta, "ping_pong": runs[2]["ping_pong"], "rows": rows,
               "runs": runs}  # fmt: skip
    if args.cli:
        print(
            "\ntinygrad-edu train --distributed on digits (1293 training samples, global batch 64, epoch incl. "
            "validation):"
        )
        print("| model | processes | epoch ms | all-reduce ms | compute ms | speed-up |")
        print("|---|---:|---:|---:|---:|---:|")
        summary["cli"] = {}
        for model in ("mlp", "lenet"):
            cli = {p: _cli_epochs(p, model, args.out, 2 if args.quick else 4, args.kernels) for p in (1, 2)}
            summary["cli"][model] = cli
            for p, r in cli.items():
                print(
                    f"| {model} | {p} | {r['epoch_s'] * 1e3:.1f} | {r['comm_s'] * 1e3:.1f} | "
                    f"{(r['epoch_s'] - r['comm_s']) * 1e3:.1f} | {cli[1]['epoch_s'] / r['epoch_s']:.2f}× |"
                )
    (args.out / "distributed_summary.json").write_text(json.dumps(summary, indent=1))
    print(f"\nwrote {args.out / 'distributed_summary.json'}")


if __name__ == "__main__":
    main()
