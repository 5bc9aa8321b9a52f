"""``mpiexec -n P python cli_driver.py LOG [--sigint-at STEP] [--fail-at STEP --fail-rank R] -- train ...``.

Runs ``tinygrad-edu`` (cli.main) on each rank, with two test hooks on the optimizer's step: a real SIGINT to
rank 0 inside step STEP (Ctrl-C on one rank), or a ValueError raised on rank R in step STEP (a rank that
fails). Each rank appends the files it saved (checkpoint and outputs) to LOG.rankR.json, so the test can see
who wrote what. The exit status is cli.main's.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from tinygrad_edu import cli, optim, trainer


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("log")
    parser.add_argument("--sigint-at", type=int)
    parser.add_argument("--fail-at", type=int)
    parser.add_argument("--fail-rank", type=int, default=1)
    ours, rest = parser.parse_known_args()
    rank = int(os.environ.get("PMI_RANK", "0"))
    writes: list[str] = []
    calls = {"n": 0}

    def hooked(step):
        def step_with_hooks(self, *args, **kwargs):
            calls["n"] += 1
            if calls["n"] == ours.sigint_at and rank == 0:
                os.kill(os.getpid(), signal.SIGINT)
            if calls["n"] == ours.fail_at and rank == ours.fail_rank:
                raise ValueError(f"injected failure in step {calls['n']}")
            return step(self, *args, **kwargs)

        return step_with_hooks

    optim.Optimizer.step = hooked(optim.Optimizer.step)  # every optimizer of the CLI steps through it
    real_save = trainer.save

    log = Path(f"{ours.log}.rank{rank}.json")

    def record() -> None:  # at once: a failing group leaves by os._exit, past any finally
        log.write_text(json.dumps({"writes": writes, "steps": calls["n"]}))

    def logged_save(obj, path, *args, **kwargs):
        writes.append(str(path))
        record()
        return real_save(obj, path, *args, **kwargs)

    trainer.save = logged_save
    real_outputs = cli._write_outputs

    def logged_outputs(run, out, test):
        writes.append(f"outputs:{out}")
        record()
        return real_outputs(run, out, test)

    cli._write_outputs = logged_outputs
    record()
    try:
        code = cli.main(rest[1:] if rest and rest[0] == "--" else rest)
    finally:
        record()
    return code


if __name__ == "__main__":
    sys.exit(main())
