"""Allocator invariants over whole training steps on the GPU: once the first step has created the
gradients and optimizer state, every further step returns memory_allocated to the same value (no
leak), under each allocator strategy's bookkeeping as seen through vt.cuda.memory_stats()."""
import pytest

import vibetensor as vt
from cuda_util import requires_gpu
from vibetensor.experiments.workloads import registry

pytestmark = requires_gpu

SMALL = {
    "mnist_mlp": {},
    "seq_reverse": {"dim": 32, "heads": 2, "layers": 1, "batch": 8},
    "minigpt": {"dim": 32, "heads": 2, "layers": 1, "batch": 4, "seq": 32, "vocab": 300, "synthetic_bytes": 20000},
}


@pytest.mark.parametrize("workload", sorted(SMALL))
def test_allocated_returns_to_its_level_after_each_step(workload):
    try:
        wl = registry.build(workload, vt, "cuda", SMALL[workload])
    except (TypeError, ValueError) as e:  # an option this workload does not take
        pytest.fail(f"small config of {workload} rejected: {e}")
    wl.step(wl.next_batch())  # creates grads and optimizer state
    vt.cuda.synchronize()
    levels = []
    for _ in range(3):
        batch = wl.next_batch()
        before = vt.cuda.memory_allocated()
        wl.step(batch)
        del batch
        vt.cuda.synchronize()
        levels.append((before, vt.cuda.memory_allocated()))
    # the batch of a step is the only thing alive before and not after it
    afters = [a for _, a in levels]
    assert afters[0] == afters[1] == afters[2], levels
    assert vt.cuda.max_memory_allocated() >= afters[-1]
