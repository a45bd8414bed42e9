"""A PyTorch training script with checkpoints, written as plain torch code: it trains the TinyLM of
torch_style_train.py, writes a checkpoint (model, AdamW and scheduler state, the step) every CKPT_EVERY steps
with torch.save, written aside and renamed so a kill never leaves half a file, and on start resumes from
the checkpoint when one exists. It prints "step <i> <loss>" per step and "checkpoint <i>" after each save.
tests/test_compat.py kills it with SIGKILL after a checkpoint, runs it again, and compares the losses with
an uninterrupted run, on the real torch and through `python -m vibetensor.run_as_torch`.

Usage: checkpoint_resume.py CHECKPOINT_PATH [steps] [--slow] [--safetensors]
(--slow: waits for the kill after a save; --safetensors, under vibetensor: the checkpoint is a safetensors file
written by vibetensor.safetensors.save_checkpoint, Note [safetensors checkpoints], instead of torch.save's)
"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_style_train import setup, train_step  # noqa: E402

CKPT_EVERY = 4


def main():
    path = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    slow = "--slow" in sys.argv
    if "--safetensors" in sys.argv:
        from vibetensor.safetensors import load_checkpoint as load, save_checkpoint

        def save(obj, path):
            save_checkpoint(obj, path)
    else:
        load, save = torch.load, torch.save
    model, optimizer, scheduler, data = setup(steps)
    start = 0
    if os.path.exists(path):
        ckpt = load(path)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        start = ckpt["step"]
        print("resumed", start, flush=True)
    for step in range(start, steps):
        loss = train_step(model, optimizer, scheduler, data[step])
        print("step", step, repr(loss), flush=True)
        if (step + 1) % CKPT_EVERY == 0:
            tmp = path + ".tmp"
            save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                  "scheduler": scheduler.state_dict(), "step": step + 1}, tmp)
            os.replace(tmp, path)
            print("checkpoint", step + 1, flush=True)
            if slow:
                time.sleep(30)  # the test kills the run here; an unkilled run just finishes later


if __name__ == "__main__":
    main()
