"""Tensor.pin_memory and Tensor.is_pinned behave as torch's: nanoGPT's train.py pins every batch
(x.pin_memory().to(device, non_blocking=True)) when it trains on the GPU."""
import numpy as np
import pytest
import torch

import vibetensor as vt
from harness import requires_cuda


def test_an_ordinary_cpu_tensor_is_not_pinned():
    assert vt.zeros(3).is_pinned() is torch.zeros(3).is_pinned() is False


@pytest.mark.skipif(vt.cuda.is_available() or torch.cuda.is_available(), reason="a CUDA GPU is available")
def test_pinning_without_a_gpu_raises_as_torch_does():
    with pytest.raises(RuntimeError):
        torch.zeros(3).pin_memory()
    with pytest.raises(RuntimeError, match="built without CUDA|no CUDA GPU is available"):
        vt.zeros(3).pin_memory()


@requires_cuda
def test_pin_memory_gives_a_pinned_copy_that_copies_to_the_gpu_without_blocking():
    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    for lib in (vt, torch):
        x = lib.from_numpy(values.copy())
        pinned = x.pin_memory()
        assert pinned.is_pinned() and not x.is_pinned()
        assert pinned.pin_memory() is pinned  # already pinned: itself, as torch
        on_gpu = pinned.to("cuda", non_blocking=True)
        np.testing.assert_array_equal(on_gpu.cpu().numpy(), values)
