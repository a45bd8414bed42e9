"""vibetensor.distributed over several processes on the CPU: the TCP store, the store collectives (Note [Store
collectives]) against numpy, DistributedDataParallel against one process training on the whole batch (Note
[Gradient buckets]), the launcher, and every way a job can go wrong: each a clear error, never a hang."""
import os
import re
import subprocess
import sys
import threading
import time

import pytest

import vibetensor as vt
import vibetensor.distributed as dist
from vibetensor.distributed.store import TCPStore

SCRIPTS = os.path.join(os.path.dirname(__file__), "scripts")


def launch(tmp_path, nproc, script, *args, timeout=120, policy=None):
    """Runs a script as nproc ranks through the launcher; (exit code, stdout + stderr)."""
    env = dict(os.environ, VT_POLICY=policy) if policy else None
    r = subprocess.run([sys.executable, "-m", "vibetensor.distributed.run", "--nproc-per-node", str(nproc),
                        os.path.join(SCRIPTS, script), *args], capture_output=True, text=True, timeout=timeout,
                       cwd=tmp_path, env=env)
    return r.returncode, r.stdout + r.stderr


def test_the_nccl_unique_id_travels_whole():
    """An ncclUniqueId holds zeros (a socket address): its 128 bytes go through the store, not a C string."""
    import ctypes
    from vibetensor.distributed import nccl
    raw = bytes([1, 0, 2]) + bytes(120) + bytes([3, 0, 4, 0, 5])
    uid = nccl.unique_id_from_bytes(raw)
    assert nccl.unique_id_bytes(uid) == raw and ctypes.sizeof(uid) == 128
    with pytest.raises(RuntimeError, match="rank 0's NCCL id has 3 bytes; expected 128"):
        nccl.unique_id_from_bytes(raw[:3])


def _store_ranks(fn, size=2):
    """fn(group, rank) on `size` thread ranks of StoreProcessGroups over one TCPStore; {rank: exception text}."""
    from vibetensor.distributed.store_collectives import StoreProcessGroup
    server = TCPStore("127.0.0.1", 0, size, is_master=True, timeout=20)
    stores = [server] + [TCPStore("127.0.0.1", server.port, size, timeout=20) for _ in range(size - 1)]
    errors = {}

    def body(r):
        try:
            fn(StoreProcessGroup(stores[r], r, size, timeout=10.0, owns_store=False), r)
        except Exception as e:  # noqa: BLE001  (what each rank raised is the result)
            errors[r] = str(e)

    threads = [threading.Thread(target=body, args=(r,)) for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for st in stores[::-1]:
        st.close()
    return errors


def test_nccl_call_checks_name_every_ranks_call_where_they_differ():
    """Note [NCCL call checks]: the exchange NcclProcessGroup makes before each collective under
    VT_DISTRIBUTED_DEBUG=DETAIL, on store groups (NCCL itself needs GPUs)."""
    from vibetensor.distributed import nccl
    same = _store_ranks(lambda g, r: nccl.check_same_call(g, ("all_reduce", (3, 2), "float32", "sum")))
    assert same == {}
    differ = _store_ranks(lambda g, r: nccl.check_same_call(g, ("all_reduce", (3, 2) if r == 0 else (2, 3), "float32",
                                                                 "sum")))
    message = ("all_reduce: the ranks' calls differ (rank: (collective, shape, dtype, op or root)): "
               "{0: ('all_reduce', (3, 2), 'float32', 'sum'), 1: ('all_reduce', (2, 3), 'float32', 'sum')}")
    assert set(differ) == {0, 1} and all(e.startswith(message) for e in differ.values()), differ


def test_rooted_collectives_with_different_roots_fail_instead_of_exchanging_nothing():
    """Note [Rooted store collectives]: two ranks each broadcasting "from itself" finished having exchanged
    nothing; now both fail, naming both calls. A broadcast that agrees still moves the data."""
    def bcast(g, r, src_of=lambda r: r, shape_of=lambda r: (3,)):
        t = vt.full(shape_of(r), float(r + 1))
        g.broadcast(t, src_of(r))
        assert t.tolist() == [1.0] * 3, t.tolist()

    errors = _store_ranks(bcast)
    assert set(errors) == {0, 1}, errors
    assert all(re.search(r"called broadcast from rank (0|1) of \[3\] float32 where rank (0|1) called broadcast from "
                         r"rank (0|1) of \[3\] float32", e) for e in errors.values()), errors
    assert _store_ranks(lambda g, r: bcast(g, r, src_of=lambda r: 0)) == {}
    shapes = _store_ranks(lambda g, r: bcast(g, r, src_of=lambda r: 0, shape_of=lambda r: (3,) if r == 0 else (2,)))
    assert set(shapes) == {0, 1} and all("of [2] float32" in e and "of [3] float32" in e for e in shapes.values()), shapes

    def reduce(g, r):
        t = vt.ones(2)
        g.reduce(t, r, "sum")  # each rank names itself the root

    errors = _store_ranks(reduce)
    assert errors and all("called reduce to rank" in e for e in errors.values()), errors


@pytest.mark.parametrize("call", ["all_gather", "gather", "scatter", "reduce_scatter"])
def test_a_store_collective_refuses_a_result_slot_of_another_shape(call):
    """copy_ broadcast a rank's (1,) tensor into a (3,) slot, silently; now it names the rank whose tensor does
    not fit."""
    def fn(g, r):
        if call == "all_gather":
            g.all_gather([vt.zeros(3), vt.zeros(3)], vt.ones(1))
        elif call == "gather":
            g.gather(vt.ones(1), [vt.zeros(3), vt.zeros(3)] if r == 0 else None, 0)
        elif call == "scatter":
            g.scatter(vt.zeros(3), [vt.ones(1), vt.ones(1)] if r == 0 else None, 0)
        else:
            g.reduce_scatter(vt.zeros(3), [vt.ones(1), vt.ones(1)], "sum")

    errors = _store_ranks(fn)
    expected = {0} if call == "gather" else {0, 1}
    assert set(errors) == expected and all(re.search(rf"{call}: rank \d's tensor has shape \(1,\), but the tensor "
                                                      r"it is written to here has shape \(3,\)", e)
                                           for e in errors.values()), errors


class _Refusing:
    """An NcclProcessGroup's call checks without NCCL: its store group is a real one; _args refuses on rank 0."""

    def __init__(self, objects, rank):
        from vibetensor.distributed import nccl
        self._objects, self._detail, self._rank = objects, True, rank
        self._checked = nccl.NcclProcessGroup._checked.__get__(self)
        self._same_call = nccl.NcclProcessGroup._same_call.__get__(self)

    def _args(self, what, *tensors):
        if self._rank == 0:
            raise ValueError(f"{what}: backend 'nccl' takes contiguous tensors")
        return 0, 0


def test_nccl_call_checks_fail_every_rank_where_one_rank_s_arguments_are_refused():
    t = vt.zeros(3, 2)
    errors = _store_ranks(lambda g, r: _Refusing(g, r)._checked("all_reduce", t, "sum", t))
    message = ("all_reduce: the ranks' calls differ (rank: (collective, shape, dtype, op or root)): "
               "{0: ('all_reduce', (3, 2), 'vibetensor.float32', 'sum', \"refused: all_reduce: backend 'nccl' takes "
               "contiguous tensors\"), 1: ('all_reduce', (3, 2), 'vibetensor.float32', 'sum')}")
    assert set(errors) == {0, 1} and all(e.startswith(message) for e in errors.values()), errors


def test_nccl_call_checks_are_off_unless_asked(monkeypatch):
    from vibetensor.distributed import nccl
    monkeypatch.delenv("VT_DISTRIBUTED_DEBUG", raising=False)
    assert not nccl.detail_checks()
    monkeypatch.setenv("VT_DISTRIBUTED_DEBUG", "detail")
    assert nccl.detail_checks()


def test_a_missing_nccl_library_is_a_clear_error(tmp_path, monkeypatch):
    from vibetensor.distributed import nccl
    missing = str(tmp_path / "libnccl.so.2")
    monkeypatch.setenv("VT_NCCL_LIBRARY", missing)
    monkeypatch.setattr(nccl, "_lib", None)  # loaded once per process: this test asks afresh
    with pytest.raises(RuntimeError, match=r"backend 'nccl': no NCCL library could be loaded \(tried " + re.escape(missing)):
        nccl.library()


def test_tcp_store_set_get_add_delete_and_timeouts():
    server = TCPStore("127.0.0.1", 0, 2, is_master=True, timeout=5)
    client = TCPStore("127.0.0.1", server.port, 2, timeout=5)
    client.set("k", b"\x00\xffbytes")
    assert server.get("k") == b"\x00\xffbytes" and server.check(["k"]) and not server.check(["k", "nope"])
    assert [client.add("n", 2), server.add("n", 3)] == [2, 5]
    assert client.delete_key("k") and not client.delete_key("k")
    client.set("text", "not a number")
    with pytest.raises(RuntimeError, match="request on key 'text' failed: invalid literal"):
        client.add("text", 1)
    assert client.add("n", 1) == 6  # the server goes on after a bad request
    with pytest.raises(TimeoutError, match="key 'absent' was not set within 0.2 s"):
        client.get("absent", timeout=0.2)
    client.close()
    server.close()
    with pytest.raises(RuntimeError, match="could not reach the store at 127.0.0.1:.* expected the master rank"):
        TCPStore("127.0.0.1", server.port, 2, timeout=0.3)


def test_every_collective_over_three_ranks_matches_numpy(tmp_path):
    code, out = launch(tmp_path, 3, "dist_ranks.py", "collectives")
    assert code == 0, out
    # the ranks share one pipe: their lines may interleave
    assert sorted(re.findall(r"rank (\d) of 3: ok", out)) == ["0", "1", "2"], out


def test_the_ring_all_reduce_over_the_store_matches_numpy(tmp_path):
    """comm.allreduce=ring (Note [Ring all-reduce]) between processes: each chunk under a store key of its own,
    read by the next rank only; the script's collectives (all_reduce of every op) match numpy exactly."""
    code, out = launch(tmp_path, 3, "dist_ranks.py", "collectives", policy="comm.allreduce=ring")
    assert code == 0, out
    assert sorted(re.findall(r"rank (\d) of 3: ok", out)) == ["0", "1", "2"], out


@pytest.mark.parametrize("mode, message", [
    ("mismatch", r"all_reduce: the ranks' tensors differ \(rank: \(shape, dtype\)\): \{0: \(\(3, 2\), 'float32'\), "
                 r"1: \(\(2, 3\), 'float32'\)"),
    ("absent", r"all_reduce \(collective #1 of the group\): rank 0 waited 2 s for rank 1, which did not reach it"),
    ("other_collective", r"rank 0 called all_reduce where rank 1 called barrier"),
], ids=lambda v: v if v.isidentifier() else "")
def test_a_job_that_goes_wrong_fails_naming_the_rank(tmp_path, mode, message):
    code, out = launch(tmp_path, 3, "dist_ranks.py", mode, "2")
    assert code != 0
    assert re.search(message, out), out
    assert "vibetensor.distributed.run: rank" in out


def test_a_rank_given_another_world_size_fails_at_init_naming_both(tmp_path):
    start = time.monotonic()
    code, out = launch(tmp_path, 3, "dist_ranks.py", "world_size", timeout=120)
    assert code != 0
    assert "rank 1 was given a world of 4 rank(s), rank 0 a world of 3; expected every rank" in out, out
    assert time.monotonic() - start < 60  # not the store's 30-minute timeout


# rank 0 reads rank 1's size, or, when rank 1 was quicker, its message for the rank rank 0 waits on: either names both
BOTH_SIZES = r"init_process_group: rank (0 was given a world of 3 rank\(s\), rank 1 a world of {n}|1 was given a world of {n} rank\(s\), rank 0 a world of 3)"


@pytest.mark.parametrize("rank1_size", [2, 4], ids=["smaller", "larger"])
def test_the_join_fails_every_rank_waiting_for_a_mismatched_one(rank1_size):
    """Rank 0 (a world of 3) waits for ranks 1 and 2; rank 1 was given another world: both fail at once."""
    server = TCPStore("127.0.0.1", 0, 2, is_master=True, timeout=20)
    client = TCPStore("127.0.0.1", server.port, 2, timeout=20)
    errors = {}

    def join(store, rank, size):
        try:
            dist._join(store, rank, size, 20.0)
        except (ValueError, TimeoutError) as e:
            errors[rank] = str(e)

    threads = [threading.Thread(target=join, args=a) for a in ((server, 0, 3), (client, 1, rank1_size))]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert time.monotonic() - start < 10
    assert re.match(BOTH_SIZES.format(n=rank1_size), errors.get(0, "")), errors
    assert errors.get(1, "").startswith(f"init_process_group: rank 1 was given a world of {rank1_size} rank(s), rank 0 "
                                        "a world of 3"), errors
    client.close()
    server.close()


def test_the_join_times_out_naming_the_missing_ranks():
    server = TCPStore("127.0.0.1", 0, 3, is_master=True, timeout=5)
    with pytest.raises(TimeoutError, match=r"rank 0 waited 0.3 s for rank\(s\) 1, 2 of a world of 3 to join"):
        dist._join(server, 0, 3, 0.3)
    server.close()


def test_a_rank_started_twice_fails_the_join_of_every_process_at_once():
    """Ranks 0, 1 and 1 of a world of 3: the second rank 1 fails, and answers for rank 2, which nobody claimed, so
    that rank 0 and the first rank 1 fail at once instead of waiting for it; a rank 2 that comes late fails too."""
    server = TCPStore("127.0.0.1", 0, 4, is_master=True, timeout=20)
    clients = [TCPStore("127.0.0.1", server.port, 4, timeout=20) for _ in range(3)]
    errors = {}

    def join(i, store, rank):
        try:
            dist._join(store, rank, 3, 20.0)
        except ValueError as e:
            errors[i] = str(e)

    threads = [threading.Thread(target=join, args=(i, s, r)) for i, (s, r) in enumerate(
        [(server, 0), (clients[0], 1), (clients[1], 1)])]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    join(3, clients[2], 2)  # the late rank 2
    assert time.monotonic() - start < 10
    message = ("init_process_group: rank 1 of a world of 3 was started twice; expected every process to be given "
               "its own RANK")
    assert errors == {0: message, 1: message, 2: message, 3: message}, errors
    for store in clients + [server]:
        store.close()


def test_a_second_rank_0_cannot_serve_the_store_and_says_why():
    server = TCPStore("127.0.0.1", 0, 2, is_master=True, timeout=5)
    with pytest.raises(RuntimeError, match=rf"could not serve the store at 127.0.0.1:{server.port} .*expected the "
                                           "port to be free"):
        TCPStore("127.0.0.1", server.port, 2, is_master=True, timeout=5)
    server.close()


def test_the_default_group_forms_again_after_destroy(tmp_path):
    """Three rounds of init, all_reduce, destroy in each of three processes (Note [Leaving a group]): a rank that
    left first used to meet at rank 0's old store, still open, and fail once rank 0 closed it."""
    code, out = launch(tmp_path, 3, "dist_ranks.py", "reinit")
    assert code == 0, out
    assert sorted(re.findall(r"rank (\d) of 3: ok", out)) == ["0", "1", "2"], out


def test_a_group_formed_again_on_a_store_passed_in_meets_its_own_ranks(tmp_path):
    """A store passed to init_process_group keeps the first group's keys (Note [Leaving a group]). Rank 2 leaves
    after the first group: the second group's join must wait for it and time out naming it, not pass on the
    first group's keys and fail later in a collective."""
    code, out = launch(tmp_path, 3, "dist_ranks.py", "reinit_store", "2")
    assert code != 0
    assert re.search(r"rank [01] waited 2 s for rank\(s\) 2 of a world of 3 to join", out), out
    assert "collective #" not in out, out


def test_arguments_that_contradict_the_launchers_environment_are_refused(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    with pytest.raises(ValueError, match="world_size=3 contradicts the environment's WORLD_SIZE=2"):
        dist.init_process_group("gloo", world_size=3, rank=1)
    with pytest.raises(ValueError, match="rank=0 contradicts the environment's RANK=1"):
        dist.init_process_group("gloo", world_size=2, rank=0)
    assert not dist.is_initialized()


def test_the_launcher_stops_the_job_when_a_rank_dies(tmp_path):
    """Rank 1 exits with code 3 while ranks 0 and 2 wait in an all_reduce (the store's 30-minute default
    timeout): the launcher stops them and exits with rank 1's code."""
    code, out = launch(tmp_path, 3, "dist_ranks.py", "leave", timeout=60)
    assert code == 3, out
    assert "rank 1 exited with code 3; stopping the 2 rank(s) still running" in out


@pytest.mark.parametrize("mode, policy", [("overlap", None), ("after_backward", "comm.overlap=after_backward"),
                                          ("no_sync", None), ("unused_found", None), ("unused_on_rank1", None),
                                          ("overlap", "preset=vibe")], ids=str)
def test_ddp_matches_one_process_on_the_whole_batch(tmp_path, mode, policy):
    """Two ranks, each on half of every batch, with buckets of 200 bytes (several per step): after four SGD
    steps their parameters equal one process's on the whole batch (no_sync: micro-batches accumulated
    locally, then averaged with the next; unused_found: a layer no rank uses keeps no gradient; under the vibe
    preset the GIL is held through backward, so the communication thread waits for backward to end)."""
    code, out = launch(tmp_path, 2, "dist_ddp.py", mode, policy=policy)
    assert code == 0, out
    assert out.count(f"{mode} ok") == 2, out
    counts = re.findall(r"(\d+) buckets, (\d+) launched in backward", out)
    assert len(counts) == 2 and all(int(b) >= 2 for b, _ in counts), out
    if mode == "after_backward":  # comm.overlap=after_backward: nothing reduced before backward returns
        assert all(int(n) == 0 for _, n in counts), out
    elif policy is None and not mode.startswith("unused"):  # bucketed: some buckets reduced while backward ran
        assert all(int(n) > 0 for _, n in counts), out


def test_ddp_names_the_parameters_that_got_no_gradient(tmp_path):
    code, out = launch(tmp_path, 2, "dist_ddp.py", "unused")
    assert code != 0
    assert ("expected to have finished reduction in the prior iteration before starting a new one; these parameters "
            "got no gradient in that backward: ['spare.bias', 'spare.weight']") in out, out


def test_init_process_group_refuses_what_it_cannot_do(monkeypatch):
    with pytest.raises(ValueError, match="rank 5 is not in a world of 2 process"):
        dist.init_process_group("gloo", world_size=2, rank=5)
    with pytest.raises(RuntimeError, match="backend 'mpi' is not available in vibetensor; expected 'gloo'"):
        dist.init_process_group("mpi", world_size=2, rank=1)
    if not vt.cuda.is_available():
        server = TCPStore("127.0.0.1", 0, 2, is_master=True, timeout=5)
        with pytest.raises(RuntimeError, match="backend 'nccl' needs a GPU and a CUDA build of vibetensor"):
            dist.init_process_group("nccl", world_size=2, rank=0, store=server)
        server.close()
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    monkeypatch.setenv("MASTER_PORT", "29500")
    with pytest.raises(ValueError, match="MASTER_ADDR is not set"):
        dist.init_process_group("gloo", world_size=2, rank=1)
    with pytest.raises(ValueError, match="init_method 'file:///tmp/x' is not supported"):
        dist.init_process_group("gloo", init_method="file:///tmp/x", world_size=2, rank=1)
    assert not dist.is_initialized()


def test_the_launcher_refuses_no_ranks(tmp_path):
    r = subprocess.run([sys.executable, "-m", "vibetensor.distributed.run", "--nproc-per-node", "0", "x.py"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and "--nproc-per-node must be at least 1, got 0" in r.stderr


def test_the_launcher_leaves_the_scripts_options_to_the_script():
    from vibetensor.distributed.run import _parse
    a = _parse(["--nproc-per-node", "2", "bench.py", "--nproc", "4", "-m", "--master-port", "1"])
    assert (a.nproc, a.module, a.target, a.args, a.master_port) == (2, False, "bench.py", ["--nproc", "4", "-m",
                                                                                          "--master-port", "1"], 0)
    a = _parse(["--master_port=29511", "-m", "pkg.train", "--lr", "0.1"])
    assert (a.nproc, a.module, a.target, a.args, a.master_port) == (1, True, "pkg.train", ["--lr", "0.1"], 29511)


def test_a_sigterm_to_the_launcher_stops_the_ranks(tmp_path):
    """The launcher handles SIGTERM (a scheduler's, timeout's): it stops the ranks and exits with 128 + 15
    (an unhandled SIGTERM would kill it, return code -15, and leave the ranks running)."""
    import signal
    import time
    p = subprocess.Popen([sys.executable, "-m", "vibetensor.distributed.run", "--nproc-per-node", "2",
                          os.path.join(SCRIPTS, "dist_ranks.py"), "absent", "60"], cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(2.0)  # the ranks start, rank 0 waits in an all_reduce for rank 1, which has left
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=30)
    assert p.returncode == 128 + signal.SIGTERM, out


def test_a_world_of_one_shuts_down_without_waiting_for_other_ranks():
    """destroy_process_group of a one-rank group: rank 0 waited its whole timeout for ranks that do not exist
    to leave the store, then raised (found by the NCCL world-of-one test on an H100)."""
    import time

    from vibetensor.distributed.store_collectives import StoreProcessGroup

    store = TCPStore("127.0.0.1", 0, 1, is_master=True, timeout=5)
    group = StoreProcessGroup(store, 0, 1, timeout=5)
    t0 = time.perf_counter()
    group.shutdown()
    assert time.perf_counter() - t0 < 2
