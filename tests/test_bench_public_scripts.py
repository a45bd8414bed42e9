"""benchmarks/bench_public_scripts.py's parts that need neither a GPU nor a training run: the synthetic corpus in
nanoGPT's and minGPT's formats, the parsers of the scripts' log lines, the checkout check, the arguments.
(The runs themselves are the harness's own output: experiments/results/public_scripts_cpu.)"""
import ast
import os
import pickle
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import bench_public_scripts as bench  # noqa: E402
from _cuda_bench_util import device_or_exit  # noqa: E402
from _public_script_data import (ALPHABET, SUCCESSORS, synthetic_text, write_mingpt_input,  # noqa: E402
                                 write_nanogpt_dataset)

NANOGPT_LOG = """\
found vocab_size = 65 (inside data/synthetic_char/meta.pkl)
step 0: train loss 4.1998, val loss 4.2131
iter 0: loss 4.2028, time 2496.13ms, mfu -100.00%
iter 1: loss 4.2100, time 1295.83ms, mfu -100.00%
iter 2: loss 4.2212, time 1295.99ms, mfu -100.00%
step 3: train loss 4.1972, val loss 4.2169
saving checkpoint to out
iter 3: loss 4.2153, time 2383.94ms, mfu 0.00%
iter 4: loss nan, time 1296.01ms, mfu 0.00%
"""

MINGPT_LOG = """\
running on device cpu
iter_dt 0.00ms; iter 0: train loss 4.20525
O God, O God!D'AQ
iter_dt 24.86ms; iter 10: train loss 4.17527
saving model
iter_dt 23.67ms; iter 20: train loss 4.15022
"""


def test_synthetic_text_is_seeded_holds_every_character_and_follows_its_chain():
    text = synthetic_text(5000, seed=3)
    assert text == synthetic_text(5000, seed=3) and text != synthetic_text(5000, seed=4)
    assert len(text) == 5000 and set(text) == set(ALPHABET) and len(ALPHABET) == 65
    walk = text[len(ALPHABET):]
    followers = {}
    for a, b in zip(walk, walk[1:]):
        followers.setdefault(a, set()).add(b)
    assert max(len(f) for f in followers.values()) <= SUCCESSORS  # learnable: the loss can fall below ln 65


def test_nanogpt_dataset_decodes_back_to_the_text(tmp_path):
    text = synthetic_text(3000)
    folder = write_nanogpt_dataset(str(tmp_path), "synth", text)
    assert folder == os.path.join(str(tmp_path), "data", "synth")
    train = np.fromfile(os.path.join(folder, "train.bin"), dtype=np.uint16)
    val = np.fromfile(os.path.join(folder, "val.bin"), dtype=np.uint16)
    assert len(train) == 2700 and len(val) == 300
    with open(os.path.join(folder, "meta.pkl"), "rb") as f:
        meta = pickle.load(f)
    assert meta["vocab_size"] == 65 and int(max(train.max(), val.max())) < 65
    assert "".join(meta["itos"][int(i)] for i in np.concatenate([train, val])) == text
    assert all(meta["stoi"][meta["itos"][i]] == i for i in range(65))


def test_mingpt_input_holds_the_text_and_chargpts_prompt_characters(tmp_path):
    text = synthetic_text(1000)
    path = write_mingpt_input(str(tmp_path), text)
    assert path == str(tmp_path / "input.txt") and open(path).read() == text
    assert set("O God, O God!") <= set(text)  # chargpt samples from this prompt at iteration 0


def test_parse_nanogpt_keeps_every_loss_and_leaves_out_the_first_and_evaluating_iterations():
    losses, ms = bench.parse_nanogpt(NANOGPT_LOG, eval_interval=3)
    assert list(losses) == [0, 1, 2, 3, 4] and losses[1] == 4.21 and np.isnan(losses[4])
    assert ms == [1295.83, 1295.99, 1296.01]


def test_parse_mingpt_takes_each_printed_time_for_the_iteration_before():
    losses, ms = bench.parse_mingpt(MINGPT_LOG)
    assert losses == {0: 4.20525, 10: 4.17527, 20: 4.15022}
    assert ms == [24.86, 23.67]


def test_a_missing_checkout_is_named_with_what_it_lacks(tmp_path, capsys):
    line = bench.checkout_problem("nanogpt", str(tmp_path))
    assert "karpathy/nanoGPT" in line and "train.py" in line and str(tmp_path) in line
    code = bench.main(["--nanogpt", str(tmp_path / "a"), "--mingpt", str(tmp_path / "b")])
    out = capsys.readouterr().out
    assert code == 2 and "karpathy/nanoGPT" in out and "karpathy/minGPT" in out


def test_unknown_script_is_refused():
    with pytest.raises(SystemExit) as e:
        bench.parse_args(["--scripts", "nanogpt,gpt3"])
    assert e.value.code == 2


def test_device_choices_and_the_tiny_configuration_reach_both_scripts():
    assert bench.parse_args([]).device == "cpu"
    with pytest.raises(SystemExit):
        bench.parse_args(["--device", "tpu"])
    assert "--device=cuda" in bench.nanogpt_args("cuda", 20, "") and not any(
        a.startswith("--dtype") for a in bench.nanogpt_args("cuda", 20, ""))
    assert "--dtype=float32" in bench.nanogpt_args("cpu", 20, "float32")
    assert "--trainer.device=cuda" in bench.mingpt_args("cuda", 51)
    assert "--trainer.max_iters=51" in bench.mingpt_args("cpu", 51)
    assert not any("num_workers" in x for x in bench.mingpt_args("cpu", 51))
    assert "--trainer.num_workers=0" in bench.mingpt_args("cpu", 51, bench.parse_args(["--mingpt-workers", "0"]).mingpt_workers)


@pytest.mark.skipif(not os.path.isfile(os.path.join(ROOT, ".thirdparty", "nanoGPT", "train.py")),
                    reason="no nanoGPT checkout at .thirdparty/nanoGPT")
def test_every_nanogpt_override_is_a_train_py_setting_of_its_type():
    """nanoGPT's configurator.py raises on an unknown key and asserts that a value keeps its default's type."""
    source = open(os.path.join(ROOT, ".thirdparty", "nanoGPT", "train.py")).read()
    defaults = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:  # a literal or arithmetic (5 * 8); dtype's default asks torch, and is a string
                defaults[node.targets[0].id] = eval(ast.unparse(node.value), {})
            except NameError:
                defaults[node.targets[0].id] = ""
    for arg in bench.nanogpt_args("cpu", 20, "float32"):
        key, value = arg[2:].split("=")
        try:
            value = ast.literal_eval(value)
        except (SyntaxError, ValueError):
            pass
        assert key in defaults and type(value) is type(defaults[key]), arg


def test_cuda_asked_without_a_gpu_exits_0_with_a_message(capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is available")
    assert device_or_exit("h", "cpu") == "cpu"
    with pytest.raises(SystemExit) as e:
        device_or_exit("h", "cuda")
    assert e.value.code == 0 and "no CUDA GPU" in capsys.readouterr().out
