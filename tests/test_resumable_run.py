"""vibetensor train (experiments/checkpoint.py, Note [Resumable runs]): a run killed mid-way and started again
resumes from its last safetensors checkpoint and gives the uninterrupted run's losses; a checkpoint of another
run, or a file that is not one, is refused with a clear message, as are a workload of several models, fewer steps
than the checkpoint has done, and a folder that cannot be written."""
import json
import os
import signal
import subprocess
import sys

import pytest

from vibetensor.experiments import checkpoint

SEQ = ["seq_reverse", "--options", json.dumps({"dim": 32, "heads": 2, "layers": 1, "batch": 8})]


def _cmd(folder, *args, steps=12):
    return [sys.executable, "-P", "-m", "vibetensor.experiments.cli", "train", *args, "--steps", str(steps),
            "--checkpoint-every", "4", "--dir", str(folder)]


def _losses(folder):
    return json.load(open(os.path.join(folder, checkpoint.LOSSES)))["losses"]


VIT = ["vit_cifar", "--options", json.dumps({"patch": 8, "dim": 16, "depth": 1, "heads": 2, "mlp": 32, "batch": 8,
                                             "synthetic_size": 64, "cls_tokens": 2, "schedule_steps": 10})]


@pytest.mark.parametrize("workload", [SEQ, ["minigpt", "--options", json.dumps({"dim": 32, "heads": 2, "layers": 1,
                                                                               "batch": 4, "seq": 32})], VIT],
                         ids=["seq_reverse_sgd", "minigpt_adamw", "vit_cosine_schedule_augmented"])
def test_a_killed_run_resumes_with_the_uninterrupted_losses(tmp_path, workload):
    whole = tmp_path / "whole"
    subprocess.run(_cmd(whole, *workload), check=True, capture_output=True, text=True, timeout=600)
    reference = _losses(whole)
    assert len(reference) == 12

    killed = tmp_path / "killed"
    p = subprocess.Popen(_cmd(killed, *workload), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:  # killed without warning once step 6 is done: the checkpoint of step 4 is the last
        if line.startswith("step 6 "):
            p.send_signal(signal.SIGKILL)
            break
    p.wait(timeout=60)
    assert p.returncode == -signal.SIGKILL and not (killed / checkpoint.LOSSES).exists()
    r = subprocess.run(_cmd(killed, *workload), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "resumed from" in r.stdout and "after step" in r.stdout
    assert _losses(killed) == reference  # bit for bit: same kernels, one thread


def test_a_finished_run_started_again_trains_no_step(tmp_path):
    subprocess.run(_cmd(tmp_path, *SEQ, steps=4), check=True, capture_output=True, timeout=600)
    r = subprocess.run(_cmd(tmp_path, *SEQ, steps=4), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and "resumed from" in r.stdout and "step 1 " not in r.stdout


def test_a_checkpoint_of_another_run_or_not_a_checkpoint_is_refused(tmp_path):
    subprocess.run(_cmd(tmp_path, *SEQ, steps=4), check=True, capture_output=True, timeout=600)
    other = ["seq_reverse", "--options", json.dumps({"dim": 32, "heads": 2, "layers": 1, "batch": 16})]
    r = subprocess.run(_cmd(tmp_path, *other, steps=8), capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "but this run is" in r.stderr and "use another --dir" in r.stderr

    from vibetensor import safetensors
    import vibetensor as vt
    plain = tmp_path / "plain"
    plain.mkdir()
    safetensors.save_file({"x": vt.zeros(2)}, str(plain / checkpoint.FILE))
    r = subprocess.run(_cmd(plain, *SEQ, steps=4), capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "without a vt_checkpoint entry" in r.stderr


def test_augmented_steps_are_the_runners(tmp_path):
    # vit_cifar augments every batch on the CPU (the runner's steps); vit_cifar_noaug does not
    aug = checkpoint.train("vit_cifar", 3, 3, str(tmp_path / "a"), json.loads(VIT[2]), "tuned", "cpu", 1)
    noaug = checkpoint.train("vit_cifar_noaug", 3, 3, str(tmp_path / "n"), json.loads(VIT[2]), "tuned", "cpu", 1)
    assert aug[0] != noaug[0]  # the same first batch, augmented or not


def test_several_models_fewer_steps_and_unwritable_folders_are_refused(tmp_path):
    sweep = ["seq_reverse_sweep", "--options", json.dumps({"dim": 32, "heads": 2, "layers": 1, "batch": 8, "replicas": 2})]
    r = subprocess.run(_cmd(tmp_path / "sweep", *sweep, steps=2), capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "trains more than one model" in r.stderr and "step 1 " not in r.stdout

    subprocess.run(_cmd(tmp_path / "six", *SEQ, steps=6), check=True, capture_output=True, timeout=600)
    r = subprocess.run(_cmd(tmp_path / "six", *SEQ, steps=2), capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "after 6 steps, more than --steps 2" in r.stderr

    (tmp_path / "a_file").write_text("")
    r = subprocess.run(_cmd(tmp_path / "a_file", *SEQ, steps=2), capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "vibetensor train:" in r.stderr and "Traceback" not in r.stderr


def test_a_truncated_checkpoint_is_refused_naming_it_and_a_stale_temporary_is_removed(tmp_path):
    subprocess.run(_cmd(tmp_path, *SEQ, steps=4), check=True, capture_output=True, timeout=600)
    path = tmp_path / checkpoint.FILE
    stale = tmp_path / (checkpoint.FILE + ".tmp12345")  # what a kill inside save_file leaves
    stale.write_bytes(b"partial")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    r = subprocess.run(_cmd(tmp_path, *SEQ, steps=8), capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and f"{path}: not a readable checkpoint" in r.stderr
    assert not stale.exists()


def test_the_checkpoint_restores_the_framework_generator(tmp_path):
    """The Philox generator's (seed, offset) travels in the checkpoint: a workload that draws from it (dropout,
    randn) after a resume draws what the uninterrupted run drew."""
    import vibetensor as vt
    from vibetensor.experiments.workloads import registry

    wl = registry.build("seq_reverse", vt, "cpu", {"dim": 16, "heads": 2, "layers": 1, "batch": 4})
    try:
        identity = checkpoint._identity("seq_reverse", {}, "tuned")
        vt.manual_seed(123)
        vt.rand(10)
        path = str(tmp_path / checkpoint.FILE)
        checkpoint.save(path, wl, identity, 3, [1.0, 2.0, 3.0])
        after = vt.randn(8)
        vt.manual_seed(9)
        assert checkpoint.load(path, wl, identity) == (3, [1.0, 2.0, 3.0])
        assert vt.equal(vt.randn(8), after)
    finally:
        registry.close(wl)
