"""A training run that survives being killed: `vibetensor train WORKLOAD --steps N --checkpoint-every K --dir D`
trains a workload on vibetensor, writes D/checkpoint.safetensors every K steps, and, started again with the
same arguments, resumes from it with the losses an uninterrupted run gives. See Note [Resumable runs]."""
import glob
import json
import os
import sys

import numpy as np

from vibetensor import int64, tensor
from vibetensor.experiments.workloads import registry
from vibetensor.random import get_rng_state, set_rng_state

FILE = "checkpoint.safetensors"
LOSSES = "losses.json"
VERSION = 3  # 2: the learning-rate schedulers' state; 3: the framework generator's (seed, offset)

# Note [Resumable runs]
# A checkpoint is one safetensors file (vibetensor.safetensors: the format's every check on load), written
# to a temporary name and renamed over the last one, so a kill at any moment leaves the previous checkpoint
# whole. It holds what the next step depends on:
# - the model's state_dict ("model/<name>") and the optimizer's state tensors ("optim/<param index>/<key>");
#   the optimizer's other state (its param_groups, non-tensor entries) in the metadata;
# - the workload's numpy Generators (the batches, augmentation), as bit-generator states in the metadata;
# - its learning-rate schedulers' state_dicts (vit_cifar's cosine schedule), in the metadata;
# - the step count and the losses so far, and the run's identity (workload, options, preset), which a
#   resume must match: a checkpoint of another run is refused, not continued.
# safetensors.save_file writes the file aside and renames it; a kill during that write leaves its temporary
# file, which the next start removes. A workload with more than one model (seq_reverse_sweep's replicas) is
# refused before it trains. Each step is the runner's: the batch, then the workload's CPU augmentation
# where it has one on (vit_cifar), then the step.
# - the framework's own generator (vt.manual_seed's Philox stream: dropout, randn), its seed and offset.
# The file is flushed to disk before the rename (vibetensor.safetensors.save_file), so a power loss, not only
# a kill, leaves the last checkpoint or the one before it whole. Resuming gives the uninterrupted run's
# losses bit for bit where the kernels are deterministic (the CPU with a fixed thread count;
# tests/test_resumable_run.py).


def _identity(workload: str, options: dict, preset: str) -> dict:
    return {"workload": workload, "options": options, "preset": preset}


def _generators(wl) -> dict:
    return {k: v for k, v in vars(wl).items() if isinstance(v, np.random.Generator)}


def _schedulers(wl) -> dict:
    from vibetensor.optim.lr_scheduler import LRScheduler

    return {k: v for k, v in vars(wl).items() if isinstance(v, LRScheduler)}


def save(path: str, wl, identity: dict, step: int, losses: list) -> None:
    """Writes the checkpoint of `wl` after `step` steps, atomically."""
    from vibetensor import safetensors

    tensors = {f"model/{k}": v for k, v in wl.model.state_dict().items()}
    optim = {"param_groups": [], "scalars": {}}
    opt = getattr(wl, "opt", None)
    if opt is not None:
        sd = opt.state_dict()
        optim["param_groups"] = sd["param_groups"]
        for idx, entries in sd["state"].items():
            for key, value in entries.items():
                if hasattr(value, "data_ptr"):
                    tensors[f"optim/{idx}/{key}"] = value
                else:
                    optim["scalars"].setdefault(str(idx), {})[key] = value
    meta = {"version": VERSION, **identity, "step": step, "losses": losses, "optim": optim,
            "generators": {k: g.bit_generator.state for k, g in _generators(wl).items()},
            "schedulers": {k: sched.state_dict() for k, sched in _schedulers(wl).items()},
            "rng": get_rng_state().tolist()}
    safetensors.save_file(tensors, path, metadata={"vt_checkpoint": json.dumps(meta)})  # atomic: aside, renamed


def load(path: str, wl, identity: dict) -> tuple:
    """Restores `wl` from the checkpoint at `path`; returns (step, losses). ValueError when the file is
    not a checkpoint of this run."""
    from vibetensor import safetensors

    try:
        f = safetensors.safe_open(path, framework="vt")
    except ValueError as e:  # a truncated or foreign file: safetensors' own check, with the path
        raise ValueError(f"{path}: not a readable checkpoint ({e})") from e
    with f:
        raw = (f.metadata() or {}).get("vt_checkpoint")
        if raw is None:
            raise ValueError(f"{path}: a safetensors file without a vt_checkpoint entry in its metadata; "
                             "expected a checkpoint written by `vibetensor train`")
        try:
            meta = json.loads(raw)
        except ValueError as e:
            raise ValueError(f"{path}: its vt_checkpoint metadata is not JSON ({e})") from e
        if not isinstance(meta, dict):
            raise ValueError(f"{path}: its vt_checkpoint metadata is a {type(meta).__name__}; expected a JSON object")
        mine = {k: meta.get(k) for k in identity}
        if meta.get("version") != VERSION or mine != identity:
            raise ValueError(f"{path}: a checkpoint of {mine} (version {meta.get('version')}), but this run is "
                             f"{identity} (version {VERSION}): use another --dir or remove it")
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    model = {k[len("model/"):]: v for k, v in tensors.items() if k.startswith("model/")}
    missing = sorted(set(wl.model.state_dict()) - set(model))
    if missing:
        raise ValueError(f"{path}: the checkpoint lacks the model's {missing}")
    device = next(iter(wl.model.state_dict().values())).device
    wl.model.load_state_dict({k: v.to(device) for k, v in model.items()})
    opt = getattr(wl, "opt", None)
    if opt is not None:
        state = {}
        for key, value in tensors.items():
            if key.startswith("optim/"):
                _, idx, name = key.split("/", 2)
                state.setdefault(int(idx), {})[name] = value
        for idx, entries in meta["optim"]["scalars"].items():
            state.setdefault(int(idx), {}).update(entries)
        opt.load_state_dict({"state": state, "param_groups": meta["optim"]["param_groups"]})
    gens = _generators(wl)
    if set(gens) != set(meta["generators"]):
        raise ValueError(f"{path}: the checkpoint's generators {sorted(meta['generators'])} are not the workload's "
                         f"{sorted(gens)}")
    for name, g in gens.items():
        g.bit_generator.state = meta["generators"][name]
    scheds = _schedulers(wl)
    if set(scheds) != set(meta["schedulers"]):
        raise ValueError(f"{path}: the checkpoint's schedulers {sorted(meta['schedulers'])} are not the workload's "
                         f"{sorted(scheds)}")
    for name, sched in scheds.items():
        sched.load_state_dict(meta["schedulers"][name])
    set_rng_state(tensor(meta["rng"], dtype=int64))
    return meta["step"], meta["losses"]


def train(workload: str, steps: int, every: int, folder: str, options: dict, preset: str, device: str,
          threads: int) -> list:
    """Trains `steps` steps (resuming from folder's checkpoint when there is one); returns every step's loss
    and writes them to folder/losses.json at the end. Prints `step i loss x` per step."""
    import vibetensor as vt

    if steps < 1 or every < 1:
        raise ValueError(f"train: --steps and --checkpoint-every must be at least 1, got {steps} and {every}")
    if threads:
        vt.set_num_threads(threads)
    vt.policy.apply_spec(f"preset={preset}")
    identity = _identity(workload, options, preset)
    wl = registry.build(workload, vt, device, options)
    try:
        if not hasattr(wl, "model"):
            raise ValueError(f"train: {workload} trains more than one model (its replicas), which a checkpoint "
                             f"does not hold; expected a workload with one model")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, FILE)
        for stale in glob.glob(glob.escape(path) + ".tmp*"):  # a save killed mid-write (Note [Resumable runs])
            os.remove(stale)
        done, losses = (load(path, wl, identity) if os.path.exists(path) else (0, []))
        if done > steps:
            raise ValueError(f"train: {path} is a checkpoint after {done} steps, more than --steps {steps}; "
                             f"expected --steps of at least {done}")
        if done:
            print(f"resumed from {path} after step {done}", flush=True)
        augment = wl.augment_batch if getattr(wl, "augments", False) else None  # as the runner's steps
        for i in range(done, steps):
            batch = wl.next_batch()
            losses.append(wl.step(augment(batch) if augment else batch))
            print(f"step {i + 1} loss {losses[-1]:.6f}", flush=True)
            if (i + 1) % every == 0 or i + 1 == steps:
                save(path, wl, identity, i + 1, losses)
        with open(os.path.join(folder, LOSSES), "w") as f:
            json.dump({**identity, "steps": steps, "losses": losses}, f)
        return losses
    finally:
        registry.close(wl)


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="vibetensor train", description=__doc__)
    p.add_argument("workload", choices=sorted(registry.WORKLOADS))
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--checkpoint-every", type=int, default=10)
    p.add_argument("--dir", required=True, help="where the checkpoint and losses.json live")
    p.add_argument("--options", default="{}", help="JSON object of workload options")
    p.add_argument("--preset", default="tuned")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1, help="intra-op CPU threads (0: the default)")
    a = p.parse_args(argv)
    try:
        losses = train(a.workload, a.steps, a.checkpoint_every, a.dir, json.loads(a.options), a.preset, a.device,
                       a.threads)
    except (ValueError, OSError) as e:  # bad arguments, a foreign checkpoint, a folder it cannot write
        print(f"vibetensor train: {e}", file=sys.stderr)
        return 2
    print(f"final loss {losses[-1]:.6f} after {len(losses)} steps; {os.path.join(a.dir, LOSSES)}")
    return 0
