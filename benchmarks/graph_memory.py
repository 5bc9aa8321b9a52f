"""How much memory the `total = total + loss` misuse keeps per step, here and in PyTorch.

    python benchmarks/graph_memory.py [--steps 1000]

Each step: forward of the seed MLP (1000 → 500 → 10, batch 128), cross-entropy, backward, then
``total = total + loss`` (a tensor, so every step's graph hangs on ``total``). After backward() a freed node
keeps no arrays, so what grows per step is only the node objects. Reported: resident memory (RSS) growth per
1,000 steps after a warm-up, for tinygrad_edu and (when installed) PyTorch, each in its own process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import gc, json, sys
import numpy as np
lib, steps = sys.argv[1], int(sys.argv[2])
def rss_kb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
if lib == "torch":
    import torch as T
    import torch.nn as nn
    import torch.nn.functional as F
    T.manual_seed(0)
else:
    import tinygrad_edu as T
    from tinygrad_edu import nn
    import tinygrad_edu.nn.functional as F
    T.manual_seed(0)
net = nn.Sequential(nn.Linear(1000, 500), nn.ReLU(), nn.Linear(500, 10))
x = T.tensor(np.random.default_rng(0).standard_normal((128, 1000)).astype(np.float32))
y = T.tensor(np.arange(128) % 10)
total = T.zeros(())
def step():
    global total
    loss = F.cross_entropy(net(x), y)
    loss.backward()
    total = total + loss
for _ in range(200):
    step()
gc.collect()
before = rss_kb()
for _ in range(steps):
    step()
gc.collect()
print(json.dumps({"lib": lib, "kb_per_1000_steps": (rss_kb() - before) * 1000 / steps}))
"""


def main() -> None:
    """Run both libraries in fresh processes and print the growth per 1,000 steps."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    for lib in ("tinygrad_edu", "torch"):
        done = subprocess.run([sys.executable, "-c", CHILD, lib, str(args.steps)], capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{lib}: could not run ({done.stderr.strip().splitlines()[-1] if done.stderr else 'no output'})")
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{lib:>13}: RSS grows {row['kb_per_1000_steps'] / 1024:6.2f} MB per 1,000 steps of total = total + loss")


if __name__ == "__main__":
    main()
