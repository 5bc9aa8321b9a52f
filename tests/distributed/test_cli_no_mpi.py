"""``tinygrad-edu train --distributed`` without mpi4py: one line naming the fix, exit status 2, no traceback."""

from __future__ import annotations

import sys

from tinygrad_edu import cli


def test_without_mpi4py_the_cli_says_how_to_install_it(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py now raises ImportError
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", None)
    code = cli.main(["train", "--distributed", "--epochs", "1", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "pip install mpi4py mpich" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "run").exists()
