"""vibetensor.compat.install_as_torch and python -m vibetensor.run_as_torch: a torch script runs unchanged.

Everything that installs the alias runs in a subprocess, so it never reaches this process, which imports
the real torch as the reference.
"""
import importlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from vibetensor.compat import alias_map

TRAIN_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts", "torch_style_train.py")


def _python(*args, cwd, safe_path=True):
    """This test's Python (the venv) in a fresh process; -P and a folder outside the checkout keep the
    installed vibetensor the one imported."""
    flags = ["-P"] if safe_path else []
    return subprocess.run([sys.executable, *flags, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


RESUME_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts", "checkpoint_resume.py")


def _killed_and_resumed(launcher, tmp_path, name, extra=()):
    """Losses of checkpoint_resume.py killed with SIGKILL after its first checkpoint and run again, and of
    an uninterrupted run: ({step: loss} of the two runs together, {step: loss} uninterrupted, resumed-at)."""
    ckpt = str(tmp_path / f"{name}.ckpt")
    proc = subprocess.Popen([sys.executable, "-P", *launcher, RESUME_SCRIPT, ckpt, "12", "--slow", *extra], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = {}
    try:
        for line in proc.stdout:
            parts = line.split()
            if parts[0] == "step":
                first[int(parts[1])] = float(parts[2])
            if parts[0] == "checkpoint":
                proc.kill()  # SIGKILL: no cleanup, no flush beyond what was written
                break
    finally:
        proc.kill()
        proc.wait(30)
    resumed = _python(*launcher, RESUME_SCRIPT, ckpt, "12", *extra, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    lines = resumed.stdout.split("\n")
    at = int(lines[0].split()[1])
    second = {int(l.split()[1]): float(l.split()[2]) for l in lines if l.startswith("step")}
    whole = _python(*launcher, RESUME_SCRIPT, str(tmp_path / f"{name}_whole.ckpt"), "12", *extra, cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    uninterrupted = {int(l.split()[1]): float(l.split()[2]) for l in whole.stdout.split("\n") if l.startswith("step")}
    return {**first, **second}, uninterrupted, at


STYLE_SCRIPTS = ["cnn_style.py", "lstm_lm_style.py", "char_trainer_style.py"]


@pytest.mark.parametrize("script", STYLE_SCRIPTS)
def test_style_alike_scripts_match_torch(script, tmp_path):
    """The project's own torch-style scripts (a CNN on 28x28 images, an LSTM language model, minGPT's
    character trainer with a Dataset and DataLoader) print torch's numbers through run_as_torch."""
    pytest.importorskip("torch")
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts", script)
    reference = _python(path, cwd=tmp_path)
    on_vibetensor = _python("-m", "vibetensor.run_as_torch", path, cwd=tmp_path)
    assert reference.returncode == 0, reference.stderr
    assert on_vibetensor.returncode == 0, on_vibetensor.stderr
    parse = lambda out: [(l.split()[0], float(l.split()[1])) for l in out.split("\n") if l.strip()]  # noqa: E731
    expected, got = parse(reference.stdout), parse(on_vibetensor.stdout)
    assert [k for k, _ in got] == [k for k, _ in expected] and len(expected) >= 6
    np.testing.assert_allclose([v for _, v in got], [v for _, v in expected], rtol=2e-5)


@pytest.mark.parametrize("framework", ["torch", "vibetensor"])
def test_killed_training_resumes_from_its_checkpoint_with_the_same_losses(framework, tmp_path):
    """A run killed with SIGKILL after its step-4 checkpoint resumes from it (model, AdamW, the cosine
    schedule) and gives the losses of an uninterrupted run; vibetensor's match torch's."""
    pytest.importorskip("torch")
    launcher = [] if framework == "torch" else ["-m", "vibetensor.run_as_torch"]
    combined, uninterrupted, at = _killed_and_resumed(launcher, tmp_path, framework)
    assert at == 4 and sorted(combined) == list(range(12))
    np.testing.assert_allclose([combined[i] for i in range(12)], [uninterrupted[i] for i in range(12)], rtol=1e-6)
    if framework == "vibetensor":
        ref, _, _ = _killed_and_resumed([], tmp_path, "reference")
        np.testing.assert_allclose([combined[i] for i in range(12)], [ref[i] for i in range(12)], rtol=1e-5)


def test_killed_run_resumes_from_a_safetensors_checkpoint(tmp_path):
    """The same kill and resume with the checkpoint written by vibetensor.safetensors.save_checkpoint: no pickle."""
    pytest.importorskip("torch")
    combined, uninterrupted, at = _killed_and_resumed(["-m", "vibetensor.run_as_torch"], tmp_path, "st",
                                                      extra=["--safetensors"])
    assert at == 4 and sorted(combined) == list(range(12))
    np.testing.assert_allclose([combined[i] for i in range(12)], [uninterrupted[i] for i in range(12)], rtol=1e-6)
    from vibetensor import safetensors as st
    with st.safe_open(str(tmp_path / "st.ckpt")) as f:  # a plain safetensors file: its tensors by path
        assert "model/embed.weight" in f.keys() or any(k.startswith("model/") for k in f.keys())
        assert any(k.startswith("optimizer/state/") for k in f.keys())


def _run_code(code, tmp_path):
    p = _python("-c", textwrap.dedent(code), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_training_script_gives_torchs_losses(tmp_path):
    pytest.importorskip("torch")
    reference = _python(TRAIN_SCRIPT, cwd=tmp_path)
    on_vibetensor = _python("-m", "vibetensor.run_as_torch", TRAIN_SCRIPT, cwd=tmp_path)
    assert reference.returncode == 0, reference.stderr
    assert on_vibetensor.returncode == 0, on_vibetensor.stderr
    expected = [float(line) for line in reference.stdout.split()]
    got = [float(line) for line in on_vibetensor.stdout.split()]
    assert len(expected) == 20 and expected[-1] < expected[0]  # it trains
    np.testing.assert_allclose(got, expected, rtol=1e-5)


NANOGPT_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts", "nanogpt_style.py")


@pytest.mark.parametrize("launch", ["plain", "world_of_one"])
def test_nanogpt_style_script_matches_torch(tmp_path, launch, monkeypatch):
    pytest.importorskip("torch")
    if launch == "world_of_one":  # as torchrun --nproc_per_node=1 sets it
        for name, value in (("RANK", "0"), ("LOCAL_RANK", "0"), ("WORLD_SIZE", "1"), ("MASTER_ADDR", "127.0.0.1"),
                            ("MASTER_PORT", "29533")):
            monkeypatch.setenv(name, value)
    reference = _python(NANOGPT_SCRIPT, cwd=tmp_path)
    on_vibetensor = _python("-m", "vibetensor.run_as_torch", NANOGPT_SCRIPT, cwd=tmp_path)
    assert reference.returncode == 0, reference.stderr
    assert on_vibetensor.returncode == 0, on_vibetensor.stderr
    ref, got = reference.stdout.splitlines(), on_vibetensor.stdout.splitlines()
    assert len(got) == len(ref) == 5
    np.testing.assert_allclose([float(line.split()[1]) for line in got[:3]],
                               [float(line.split()[1]) for line in ref[:3]], rtol=1e-5)
    assert got[3:] == ref[3:] and got[4] == "sampled True True"


def test_every_import_style_gives_the_same_module(tmp_path):
    out = _run_code("""
        import sys
        import vibetensor, vibetensor.compat
        vibetensor.compat.install_as_torch()
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        import torch.optim.lr_scheduler as lrs
        import torch.backends.cuda
        import torch.backends.cudnn
        import torch.distributed as dist
        from torch.nn.parallel import DistributedDataParallel as DDP
        from torch import optim
        from torch.nn import functional
        from torch.optim import AdamW
        from torch.optim.lr_scheduler import CosineAnnealingLR
        checks = {
            "torch": torch is vibetensor,
            "nn": nn is torch.nn is vibetensor.nn,
            "functional": F is functional is torch.nn.functional is vibetensor.nn.functional,
            "optim": optim is torch.optim is vibetensor.optim,
            "AdamW": AdamW is torch.optim.AdamW is vibetensor.optim.AdamW,
            "lr_scheduler": CosineAnnealingLR is lrs.CosineAnnealingLR is vibetensor.optim.lr_scheduler.CosineAnnealingLR,
            "backends.cuda": torch.backends.cuda is vibetensor.backends.cuda,
            "backends.cudnn": torch.backends.cudnn is vibetensor.backends.cudnn,
            "distributed": dist is torch.distributed is vibetensor.distributed,
            "DDP": DDP is torch.nn.parallel.DistributedDataParallel is vibetensor.nn.parallel.DistributedDataParallel,
            "aliases": all(sys.modules[t] is sys.modules[v] for t, v in vibetensor.compat.alias_map().items()),
        }
        # no vibetensor source file loaded twice (as the issue found with sys.modules['torch'] alone)
        by_file = {}
        for m in list(sys.modules.values()):
            by_file.setdefault(getattr(m, "__file__", None), set()).add(id(m))
        folder = vibetensor.__path__[0]
        checks["one copy"] = all(len(ids) == 1 for f, ids in by_file.items() if f and f.startswith(folder))
        print(sorted(name for name, ok in checks.items() if not ok))
    """, tmp_path)
    assert out.strip() == "[]"


def test_alias_map_walks_the_public_tree_and_shadows_nothing_of_torch():
    torch = pytest.importorskip("torch")
    aliases = alias_map()
    assert {"torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.modules.linear", "torch.optim",
            "torch.optim.lr_scheduler", "torch.autograd", "torch.cuda", "torch.backends", "torch.backends.cuda",
            "torch.nn.utils", "torch.utils", "torch.utils.data", "torch.utils.data.dataloader", "torch.backends.cudnn",
            "torch.distributed", "torch.nn.parallel", "torch.nn.parallel.distributed", "torch.cuda.random"} <= aliases.keys()
    assert all(t == "torch" + v[len("vibetensor"):] for t, v in aliases.items())
    for name in aliases:  # Note [Alias rule]: nothing private, no layer above, not the alias machinery
        parts = name.split(".")
        assert not any(p.startswith("_") for p in parts), name
        assert parts[1:2] not in (["kernels"], ["probes"], ["experiments"], ["paper"], ["compat"], ["run_as_torch"])
    for name in aliases:  # each is torch's module of that name, or a name torch does not use at all
        try:
            importlib.import_module(name)  # (find_spec fails on torch.backends, whose __spec__ is None)
            continue
        except ModuleNotFoundError:
            pass
        parent, _, leaf = name.rpartition(".")
        if parent in sys.modules:  # else the parent is vibetensor-only too
            assert not hasattr(sys.modules[parent], leaf), f"{name} would shadow torch's {parent}.{leaf}"


def test_missing_submodule_names_what_vibetensor_lacks(tmp_path):
    out = _run_code("""
        import vibetensor.compat
        vibetensor.compat.install_as_torch()
        for statement in ("import torch.fx", "from torch.fx import symbolic_trace",
                          "import torch.export", "import torch._tensor"):
            try:
                exec(statement)
                print("imported")
            except ModuleNotFoundError as e:
                print(e.name, "|", e)
    """, tmp_path).splitlines()
    assert len(out) == 4
    for line, missing in zip(out, ("torch.fx", "torch.fx", "torch.export")):
        name, message = line.split(" | ")
        assert name == missing
        assert message.startswith(f"No module named '{missing}': torch is vibetensor here "
                                  "(vibetensor.compat.install_as_torch)")
        assert f"vibetensor has no vibetensor.{missing[len('torch.'):]}" in message
        assert "the real torch is not used as a fallback" in message
    assert out[3].startswith("torch._tensor | ") and "vibetensor._tensor is private to vibetensor" in out[3]


def test_torch_save_and_load_are_vibetensors(tmp_path):
    out = _run_code("""
        import vibetensor, vibetensor.compat
        torch = vibetensor.compat.install_as_torch()
        import torch.serialization
        model = torch.nn.Linear(3, 2)
        opt = torch.optim.AdamW(model.parameters())
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, "ckpt.pt")
        ckpt = torch.load("ckpt.pt", map_location="cpu")
        fresh = torch.nn.Linear(3, 2)
        fresh.load_state_dict(ckpt["model"])
        print(torch.save is vibetensor.save, torch.load is vibetensor.load,
              torch.serialization is vibetensor.serialization, torch.equal(fresh.weight, model.weight))
    """, tmp_path)
    assert out.split() == ["True"] * 4


def test_refuses_when_the_real_torch_is_imported(tmp_path):
    pytest.importorskip("torch")
    out = _run_code("""
        import sys
        import torch
        import vibetensor.compat
        try:
            vibetensor.compat.install_as_torch()
        except RuntimeError as e:
            print(e)
        print(sys.modules["torch"] is torch, vibetensor.compat.is_installed())
    """, tmp_path).splitlines()
    assert out[0].startswith("install_as_torch: the real torch is imported already (")
    assert "pass force=True" in out[0]
    assert out[1] == "True False"


def test_force_replaces_the_real_torch_and_uninstall_restores_it(tmp_path):
    pytest.importorskip("torch")
    out = _run_code("""
        import sys
        import torch, torch.fx, torch.utils.data
        real, real_data = torch, torch.utils.data
        import vibetensor, vibetensor.compat
        vibetensor.compat.install_as_torch(force=True)
        import torch
        print(torch is vibetensor)
        try:
            import torch.fx  # loaded from the real torch before: still no fallback to it
            print("imported")
        except ModuleNotFoundError as e:
            print(e.name)
        import torch.utils.data
        print(torch.utils.data is vibetensor.utils.data)
        vibetensor.compat.uninstall()
        import torch.utils.data
        print(sys.modules["torch"] is real, torch.utils.data is real_data, vibetensor.compat.is_installed())
    """, tmp_path).splitlines()
    assert out == ["True", "torch.fx", "True", "True True False"]


def test_uninstall_leaves_no_torch_entry(tmp_path):
    out = _run_code("""
        import sys
        import vibetensor.compat
        from vibetensor.compat.missing_finder import MissingTorchModuleFinder
        vibetensor.compat.install_as_torch()
        import torch.nn.functional
        vibetensor.compat.uninstall()
        print(sorted(n for n in sys.modules if n == "torch" or n.startswith("torch.")),
              any(isinstance(f, MissingTorchModuleFinder) for f in sys.meta_path))
    """, tmp_path)
    assert out.strip() == "[] False"


def test_run_as_torch_passes_argv_and_exit_status(tmp_path):
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir(), elsewhere.mkdir()
    (project / "helper.py").write_text("VALUE = 'helper next to the script'\n")
    script = project / "script.py"
    script.write_text(textwrap.dedent("""
        import sys
        import torch, vibetensor
        from helper import VALUE
        print(__name__, sys.argv[1:], torch is vibetensor, VALUE)
        if sys.argv[1] == "raise":
            raise ValueError("from the script")
        sys.exit(int(sys.argv[1]))
    """))
    # without -P, as a user runs it: the script's folder is on sys.path, not the working folder
    p = _python("-m", "vibetensor.run_as_torch", str(script), "3", "--flag", "a b", cwd=elsewhere, safe_path=False)
    assert p.returncode == 3, p.stderr
    assert p.stdout.strip() == "__main__ ['3', '--flag', 'a b'] True helper next to the script"
    p = _python("-m", "vibetensor.run_as_torch", str(script), "raise", cwd=elsewhere, safe_path=False)
    assert p.returncode == 1 and "ValueError: from the script" in p.stderr
    p = _python("-m", "vibetensor.run_as_torch", cwd=elsewhere)
    assert p.returncode == 2 and p.stderr.startswith("usage: python -m vibetensor.run_as_torch script.py")
