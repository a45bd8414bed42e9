"""vibetensor: a research-instrumented eager deep-learning runtime with a torch-like API.

`import vibetensor as vt` gives tensors, factories, functional ops, autograd, nn and optim with
torch's names and signatures. The VT_POLICY environment variable (e.g.
VT_POLICY="preset=vibe,autograd.gate=per_graph") is applied at import; see vibetensor.policy.
The probes sit a layer above and are imported on their own: `import vibetensor.probes`, then vt.probes.locks().
"""
from vibetensor import _checkout

_checkout.install(__file__)  # in a source checkout: vibetensor.kernels is kernels/, and so on
from vibetensor._version import __version__  # noqa: E402,F401
from vibetensor import _blas  # noqa: E402

_blas.preload()
from vibetensor import _C  # noqa: E402
from vibetensor import _tensor  # noqa: E402,F401  (installs the Tensor methods)
from vibetensor import _pickling  # noqa: E402

_pickling.install()  # tensors, Parameters and devices pickle
from vibetensor._dtype import (  # noqa: E402
    bfloat16, bool, dtype, float16, float32, float64, get_default_dtype, int32, int64, set_default_dtype)
from vibetensor._factories import (  # noqa: E402
    arange, as_tensor, empty, empty_like, full, full_like, ones, ones_like, rand, rand_like, randint, randint_like,
    randn, randn_like, scalar_tensor, tensor, zeros, zeros_like)
from vibetensor._functional import (  # noqa: E402
    abs, add, all, allclose, amax, amin, any, argmax, argmin, as_strided, bmm, broadcast_shapes, broadcast_tensors,
    broadcast_to, cat, chunk, clamp, clamp_max, clamp_min, clone, concat, concatenate, cos, cumsum, detach, div,
    dropout, eq, equal, exp, flatten, floor_divide, gather, ge, gt, index_add, index_select, is_floating_point,
    is_tensor, isclose, isfinite, isinf, isnan, le, log, log_softmax, logical_and, logical_not, logical_or, logsumexp,
    lt, masked_fill, masked_select, matmul, max, maximum, mean, min, minimum, mm, movedim, mul, narrow, ne, neg, norm,
    numel, permute, pow, reciprocal, relu, remainder, reshape, rsqrt, rsub, scatter_add, select, sigmoid, sin, softmax,
    split, sqrt, square, squeeze, stack, std, sub, sum, swapaxes, swapdims, t, tanh, transpose, tril, triu, unbind,
    unflatten, unsqueeze, var, where)
from vibetensor._interop import from_dlpack, from_numpy  # noqa: E402
from vibetensor._counting import bincount, count_nonzero  # noqa: E402
from vibetensor._cumulative import cummax, cummin, cumprod, logcumsumexp  # noqa: E402
from vibetensor._diagonals import block_diag, diag, diag_embed, diagonal  # noqa: E402
from vibetensor._differences import diff  # noqa: E402
from vibetensor._distances import cdist, dist  # noqa: E402
from vibetensor._erf import erf  # noqa: E402
from vibetensor._grids import cartesian_prod, meshgrid  # noqa: E402
from vibetensor._lerp import lerp  # noqa: E402
from vibetensor._log1p_expm1 import expm1, log1p, logaddexp  # noqa: E402
from vibetensor._moments import std_mean, var_mean  # noqa: E402
from vibetensor._nan_handling import nan_to_num, nanmean, nansum  # noqa: E402
from vibetensor._polar import atan2, hypot  # noqa: E402
from vibetensor._products import (  # noqa: E402
    addbmm, addmm, addmv, addr, baddbmm, cross, ger, kron, outer, tensordot)
from vibetensor._rounding import fix, frac, trunc  # noqa: E402
from vibetensor._searchsorted import bucketize, searchsorted  # noqa: E402
from vibetensor._sign import heaviside, sgn, sign  # noqa: E402
from vibetensor._spaced_ranges import linspace, logspace  # noqa: E402
from vibetensor._splitting import dsplit, hsplit, tensor_split, vsplit  # noqa: E402
from vibetensor._stacking import (  # noqa: E402
    atleast_1d, atleast_2d, atleast_3d, column_stack, dstack, hstack, row_stack, vstack)
from vibetensor._triangle_indices import tril_indices, triu_indices  # noqa: E402
from vibetensor._unique import unique, unique_consecutive  # noqa: E402
from vibetensor._einsum import einsum  # noqa: E402
from vibetensor._compile import compile, get_float32_matmul_precision, set_float32_matmul_precision  # noqa: E402,A004
from vibetensor._generator import Generator  # noqa: E402
from vibetensor.random import (  # noqa: E402,F401
    fork_rng, get_rng_state, initial_seed, manual_seed, seed, set_rng_state)
from vibetensor._nonzero import argwhere, nonzero  # noqa: E402
from vibetensor._rearrange import flip, fliplr, flipud, repeat_interleave, roll, rot90  # noqa: E402
from vibetensor._sampling import multinomial  # noqa: E402
from vibetensor._scatter import scatter  # noqa: E402
from vibetensor._size import Size  # noqa: E402
from vibetensor._sorting import argsort, msort, sort, topk  # noqa: E402
from vibetensor._type_info import finfo, iinfo  # noqa: E402
from vibetensor._tensor_str import set_printoptions  # noqa: E402
from vibetensor.serialization import load, save  # noqa: E402
from vibetensor.autograd.grad_mode import (  # noqa: E402
    enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled)
from vibetensor import amp, autograd, backends, cuda, nn, ops, optim, policy, random, return_types, utils  # noqa: E402,F401
from vibetensor import distributions, linalg, testing  # noqa: E402,F401  (after nn: distributions uses nn.functional)
from vibetensor.amp import autocast, get_autocast_dtype, is_autocast_available, is_autocast_enabled  # noqa: E402,F401
# vt.probes is a layer above this package (the architecture brief's drawing): `import vibetensor.probes`.

Tensor = _C.Tensor
device = _C.device
promote_types = _C.promote_types

# torch's dtype aliases (assigned last: they shadow the builtins inside this module).
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
clip = clamp
negative = neg
subtract = sub
multiply = mul
divide = div
true_divide = div


def set_num_threads(n):
    """Sets the number of threads of the CPU kernels for the calling thread (its OpenMP team)."""
    _C._set_num_threads(n.__index__())  # (the name int is the dtype here, as torch.int)


def get_num_threads():
    """The number of threads the CPU kernels of the calling thread use."""
    return _C._get_num_threads()


policy._apply_environment()
