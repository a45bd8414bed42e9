"""The CPU random kernels against a Python Philox4x32-10 (the CUDA kernels are checked against
the CPU bit for bit in tests/gpu)."""
import math

import numpy as np

from vibetensor import _C

ops = _C._ops
M32 = 0xFFFFFFFF


def philox(seed, counter):
    ctr = [counter & M32, (counter >> 32) & M32, 0, 0]
    key = [seed & M32, (seed >> 32) & M32]
    for _ in range(10):
        p0 = 0xD2511F53 * ctr[0]
        p1 = 0xCD9E8D57 * ctr[2]
        ctr = [((p1 >> 32) ^ ctr[1] ^ key[0]) & M32, p1 & M32, ((p0 >> 32) ^ ctr[3] ^ key[1]) & M32, p0 & M32]
        key = [(key[0] + 0x9E3779B9) & M32, (key[1] + 0xBB67AE85) & M32]
    return ctr


def bits64(seed, counter):
    o = philox(seed, counter)
    return (o[0] << 32) | o[1]


def to_np(t):
    return np.from_dlpack(t.detach())


def test_rand_matches_reference():
    _C.manual_seed(1234)
    t = to_np(ops.rand([50], dtype=_C.dtype.float64))
    ref = [float(bits64(1234, i) >> 11) * (1.0 / 9007199254740992.0) for i in range(50)]
    np.testing.assert_array_equal(t, np.array(ref))


def test_randint_matches_reference_and_offsets_advance():
    _C.manual_seed(7)
    ops.rand([10])  # consumes counters 0..9
    t = to_np(ops.randint(-3, 9, [20]))
    ref = [-3 + bits64(7, 10 + i) % 12 for i in range(20)]
    np.testing.assert_array_equal(t, np.array(ref))


def test_randn_matches_box_muller():
    _C.manual_seed(99)
    t = to_np(ops.randn([200], dtype=_C.dtype.float64))
    ref = []
    for i in range(200):
        o = philox(99, i)
        u1 = (o[0] + 1.0) * (1.0 / 4294967297.0)
        u2 = o[1] * (1.0 / 4294967296.0)
        ref.append(math.sqrt(-2.0 * math.log(u1)) * math.cos(2 * math.pi * u2))
    # vibetensor's log/cos are exact-rounding polynomials (same bits on CPU and CUDA): a few ulp from libm
    np.testing.assert_allclose(t, np.array(ref), rtol=1e-13, atol=1e-14)


def test_randn_statistics():
    _C.manual_seed(0)
    t = to_np(ops.randn([200000], dtype=_C.dtype.float64))
    assert abs(t.mean()) < 0.01
    assert abs(t.std() - 1.0) < 0.01
