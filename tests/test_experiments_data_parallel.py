"""Data-parallel cells (Note [Data-parallel cells]): world size 1 is the plain cell plus the DDP wrapper (the
same losses, in process, for both frameworks), and `[run] data_parallel = 2` runs every cell as two launched
ranks end to end, recording each rank's step times."""
import os
import socket

import pytest

from vibetensor.experiments import runner
from vibetensor.experiments.analysis import records as results
from test_experiments_cli import TINY, run_cli


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("framework", ["vibetensor", "torch"])
def test_world_size_one_is_the_plain_cell_plus_the_wrapper(framework, monkeypatch):
    if framework == "torch":
        pytest.importorskip("torch")
    plain = runner.run_cell("seq_reverse", framework, "cpu", steps=3, warmup=1, probe_steps=0, gpu_steps=0)
    for k, v in {"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1",
                 "MASTER_PORT": str(_free_port())}.items():
        monkeypatch.setenv(k, v)
    session = runner.CellSession("seq_reverse", framework, "cpu", 3, 1, None, None, None, None, data_parallel=True)
    try:
        assert type(session.wl.model).__name__ == "DistributedDataParallel"
        session.block(3)
        record = session.record(0, 0)
    finally:
        session.close()
    assert record["losses"] == plain["losses"]  # the same data, model and updates: the wrapper changes nothing
    dp = record["data_parallel"]
    assert dp["world_size"] == 1 and len(dp["rank_step_times_s"][0]) == 3 and dp["backend"] == "gloo"


def test_a_matrix_of_two_rank_cells_runs_end_to_end(tmp_path):
    """Both frameworks' cells as two ranks each (vibetensor's launcher, torchrun): the records carry every
    rank.s step times."""
    pytest.importorskip("torch")
    cfg = tmp_path / "dp.toml"
    cfg.write_text(TINY.replace("steps = 2\n", "steps = 2\ndata_parallel = 2\nprobe_steps = 1\ngpu_steps = 0\n"
                                "threads = 1\nrounds = 1\n"))
    out = tmp_path / "res.jsonl"
    p = run_cli("run", str(cfg), "--out", str(out), cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    recs = results.read(str(out))
    assert {r["framework"] for r in recs} == {"torch", "vibetensor"}
    for r in recs:
        assert r["cell"].endswith("|ddp2") and r.get("status", "ok") == "ok", r
        dp = r["data_parallel"]
        assert dp["world_size"] == 2 and len(dp["rank_step_times_s"]) == 2
        assert all(len(t) == 2 for t in dp["rank_step_times_s"]) and all(m > 0 for m in dp["rank_median_step_ms"])
    assert os.path.exists(out)
