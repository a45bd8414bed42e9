"""Collectives of CUDA tensors through NCCL (backend "nccl", Note [NCCL backend])."""
import ctypes
import glob
import os

from vibetensor import _C
from vibetensor.distributed import ring

# Note [NCCL backend]
# NCCL is loaded at run time (ctypes over libnccl.so.2: the nvidia-nccl-cu13 wheel that CUDA builds of torch
# install, else the system's; VT_NCCL_LIBRARY names another), so vibetensor builds and imports without it and
# a job that asks for it on a machine without it gets one message saying so. Rank 0 makes the communicator's
# unique id and shares it through the job's TCP store; every rank joins with ncclCommInitRank on the device of
# its LOCAL_RANK. A collective is enqueued on vibetensor's current stream of the tensor's device, so it is
# ordered with the kernels before and after it as any op is, and the call returns without waiting (torch's
# NCCL collectives behave the same). Tensors must be contiguous CUDA tensors of the communicator's device.
# Object collectives (all_gather_object, broadcast_object_list) go through the store, as torch's go through
# its own tensors.

_DTYPES = {"int8": 0, "uint8": 1, "int32": 2, "int64": 4, "float16": 6, "float32": 7, "float64": 8, "bfloat16": 9}
_OPS = {"sum": 0, "product": 1, "max": 2, "min": 3, "avg": 4}


class _UniqueId(ctypes.Structure):
    _fields_ = [("internal", ctypes.c_char * 128)]


def unique_id_bytes(uid):
    """The 128 bytes of an ncclUniqueId, zeros included (a c_char array field would stop at the first zero)."""
    return bytes(uid)


def unique_id_from_bytes(data):
    if len(data) != ctypes.sizeof(_UniqueId):
        raise RuntimeError(f"backend 'nccl': rank 0's NCCL id has {len(data)} bytes; expected "
                           f"{ctypes.sizeof(_UniqueId)}")
    return _UniqueId.from_buffer_copy(data)


def _candidates():
    if os.environ.get("VT_NCCL_LIBRARY"):
        return [os.environ["VT_NCCL_LIBRARY"]]
    found = []
    try:
        import nvidia
        for base in nvidia.__path__:
            found += sorted(glob.glob(os.path.join(base, "nccl", "lib", "libnccl.so*")))
    except ImportError:
        pass
    return found + ["libnccl.so.2"]


_lib = None


def library():
    """libnccl, loaded once; RuntimeError naming the places tried when there is none."""
    global _lib
    if _lib is None:
        tried = []
        for path in _candidates():
            try:
                lib = ctypes.CDLL(path)
                break
            except OSError as e:
                tried.append(f"{path} ({e})")
        else:
            raise RuntimeError("backend 'nccl': no NCCL library could be loaded (tried " + "; ".join(tried) +
                               "); expected the nvidia-nccl-cu13 wheel, a system libnccl.so.2, or VT_NCCL_LIBRARY")
        lib.ncclGetErrorString.restype = ctypes.c_char_p
        lib.ncclCommInitRank.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, _UniqueId, ctypes.c_int]
        vp, sz = ctypes.c_void_p, ctypes.c_size_t
        lib.ncclAllReduce.argtypes = [vp, vp, sz, ctypes.c_int, ctypes.c_int, vp, vp]
        lib.ncclReduce.argtypes = [vp, vp, sz, ctypes.c_int, ctypes.c_int, ctypes.c_int, vp, vp]
        lib.ncclBroadcast.argtypes = [vp, vp, sz, ctypes.c_int, ctypes.c_int, vp, vp]
        lib.ncclAllGather.argtypes = [vp, vp, sz, ctypes.c_int, vp, vp]
        lib.ncclReduceScatter.argtypes = [vp, vp, sz, ctypes.c_int, ctypes.c_int, vp, vp]
        lib.ncclCommDestroy.argtypes = [vp]
        lib.ncclSend.argtypes = [vp, sz, ctypes.c_int, ctypes.c_int, vp, vp]
        lib.ncclRecv.argtypes = [vp, sz, ctypes.c_int, ctypes.c_int, vp, vp]
        _lib = lib
    return _lib


def version():
    v = ctypes.c_int()
    _check(library().ncclGetVersion(ctypes.byref(v)), "ncclGetVersion")
    return v.value


def _check(result, what):
    if result != 0:
        raise RuntimeError(f"{what} failed: NCCL error {result} ({library().ncclGetErrorString(result).decode()})")


# Note [NCCL call checks]
# A collective is one NCCL call that every rank must make with the same count and dtype; NCCL does not
# compare them (a mismatch hangs, or reads and writes past a buffer). The store backends compare every
# tensor anyway, since they exchange it. VT_DISTRIBUTED_DEBUG=DETAIL (as torch's TORCH_DISTRIBUTED_DEBUG=DETAIL)
# makes each rank first exchange its call (collective, shape, dtype, op or root) through the store and raise,
# naming every rank's call, where they differ: a store round trip per collective, so it is off by default.
# A rank whose arguments the backend refuses (a CPU or strided tensor, a dtype NCCL lacks) still makes the
# exchange, with its refusal in its call: otherwise it alone raises and the others wait for it. gather and
# scatter run through the store, but are checked too, so a mismatch names the collective the user called.


def detail_checks() -> bool:
    return os.environ.get("VT_DISTRIBUTED_DEBUG", "").upper() == "DETAIL"


def check_same_call(objects, call):
    """Raises ValueError on every rank when the ranks of `objects` (a store group) pass different calls."""
    calls = [None] * objects.size()
    objects.all_gather_object(calls, call)
    if any(c != calls[0] for c in calls):
        raise ValueError(f"{call[0]}: the ranks' calls differ (rank: (collective, shape, dtype, op or root)): "
                         f"{dict(enumerate(calls))}; expected every rank to make the same call "
                         "(VT_DISTRIBUTED_DEBUG=DETAIL, Note [NCCL call checks])")


def require():
    """What this process needs for the backend before it meets the other ranks: a GPU and libnccl."""
    from vibetensor import cuda

    if not cuda.is_available():
        raise RuntimeError("backend 'nccl' needs a GPU and a CUDA build of vibetensor; expected 'gloo' on the CPU")
    return library()


class NcclProcessGroup:
    """The ranks of a job joined in one NCCL communicator; `store` carries the unique id (Note [NCCL backend])."""

    def __init__(self, store, rank, size, timeout=1800.0, prefix="nccl0", owns_store=True):
        from vibetensor import cuda
        from vibetensor.distributed.store_collectives import StoreProcessGroup

        self._rank, self._size, self.store, self.timeout = rank, size, store, timeout
        lib = require()
        self.device = int(os.environ.get("LOCAL_RANK", rank)) % cuda.device_count()
        cuda.set_device(self.device)
        _C._ops.full([1], 0, _C.dtype.float32, _C.device(f"cuda:{self.device}"))  # the device's context exists
        if rank == 0:
            uid = _UniqueId()
            _check(lib.ncclGetUniqueId(ctypes.byref(uid)), "ncclGetUniqueId")
            store.set(f"{prefix}/id", unique_id_bytes(uid))
        else:
            try:
                uid = unique_id_from_bytes(store.get(f"{prefix}/id", timeout))
            except TimeoutError:
                raise RuntimeError(f"backend 'nccl': rank {rank} waited {timeout:g} s for rank 0's NCCL id") from None
        self.comm = ctypes.c_void_p()
        _check(lib.ncclCommInitRank(ctypes.byref(self.comm), size, uid, rank),
               f"ncclCommInitRank (rank {rank} of {size}, cuda:{self.device})")
        self._objects = StoreProcessGroup(store, rank, size, "nccl", timeout, prefix=f"{prefix}/obj",
                                          owns_store=owns_store)
        self._detail = detail_checks()

    def _same_call(self, what, tensor, extra=None, refused=None):
        if self._detail:
            call = (what, tuple(tensor.shape), str(tensor.dtype), extra)
            check_same_call(self._objects, call if refused is None else (*call, f"refused: {refused}"))

    def _checked(self, what, tensor, extra, *tensors):
        """_args(what, *tensors), then the call check (Note [NCCL call checks]). A rank whose arguments are refused
        still takes part in the check, its refusal part of its call, so the ranks waiting for it fail with it
        instead of waiting out the timeout in the NCCL call it never makes."""
        try:
            args = self._args(what, *tensors)
        except ValueError as e:
            self._same_call(what, tensor, extra, refused=str(e))  # raises on every rank unless every rank refused
            raise
        self._same_call(what, tensor, extra)
        return args

    def rank(self):
        return self._rank

    def size(self):
        return self._size

    def name(self):
        return "nccl"

    def _args(self, what, *tensors):
        """(pointers..., count, nccl dtype, stream) after checking the tensors."""
        from vibetensor import cuda
        t0 = tensors[0]
        for t in tensors:
            if t.device.type != "cuda" or (t.device.index if t.device.index is not None else self.device) != self.device:
                raise ValueError(f"{what}: backend 'nccl' takes CUDA tensors on cuda:{self.device} (this rank's "
                                 f"device), got one on {t.device}")
            if not t.is_contiguous():
                raise ValueError(f"{what}: backend 'nccl' takes contiguous tensors")
            if t.dtype is not t0.dtype:
                raise ValueError(f"{what}: tensors of one dtype expected, got {t0.dtype} and {t.dtype}")
        code = _DTYPES.get(str(t0.dtype).replace("vibetensor.", ""))
        if code is None:
            raise ValueError(f"{what}: backend 'nccl' has no {t0.dtype}; expected one of {sorted(_DTYPES)}")
        return code, cuda.current_stream(self.device).cuda_stream

    def _op(self, op, what):
        if op not in _OPS:
            raise ValueError(f"{what}: reduce op {op!r} is not supported by backend 'nccl'; expected one of "
                             f"{sorted(_OPS)}")
        return _OPS[op]

    def all_reduce(self, tensor, op):
        dt, stream = self._checked("all_reduce", tensor, op, tensor)
        _check(library().ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(), dt,
                                       self._op(op, "all_reduce"), self.comm, stream), "ncclAllReduce")

    def ring_all_reduce(self, tensor, op):
        """comm.allreduce=ring (Note [Ring all-reduce]): each step one ncclSend to the next rank and one ncclRecv
        from the previous in one NCCL group call, on this rank's stream; the adds follow on the same stream."""
        from vibetensor import _factories
        lib = library()
        nxt, prev = (self._rank + 1) % self._size, (self._rank - 1) % self._size

        def shift(chunk, like):
            received = _factories.empty_like(like)
            dt, stream = self._args("all_reduce", chunk, received)
            _check(lib.ncclGroupStart(), "ncclGroupStart")
            _check(lib.ncclSend(chunk.data_ptr(), chunk.numel(), dt, nxt, self.comm, stream), "ncclSend")
            _check(lib.ncclRecv(received.data_ptr(), received.numel(), dt, prev, self.comm, stream), "ncclRecv")
            _check(lib.ncclGroupEnd(), "ncclGroupEnd")
            return received

        self._checked("all_reduce", tensor, op, tensor)
        ring.all_reduce(tensor, op, self._rank, self._size, shift)

    def reduce(self, tensor, dst, op):
        dt, stream = self._checked("reduce", tensor, (op, dst), tensor)
        _check(library().ncclReduce(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(), dt, self._op(op, "reduce"),
                                    dst, self.comm, stream), "ncclReduce")

    def broadcast(self, tensor, src):
        dt, stream = self._checked("broadcast", tensor, src, tensor)
        _check(library().ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(), dt, src, self.comm,
                                       stream), "ncclBroadcast")

    def all_gather(self, outputs, tensor):
        if len(outputs) != self._size:
            raise ValueError(f"all_gather: expected a list of {self._size} tensors (the world size), got {len(outputs)}")
        flat = _C._ops.full([self._size * tensor.numel()], 0, tensor.dtype, tensor.device)
        dt, stream = self._checked("all_gather", tensor, None, tensor, flat)
        _check(library().ncclAllGather(tensor.data_ptr(), flat.data_ptr(), tensor.numel(), dt, self.comm, stream),
               "ncclAllGather")
        n = tensor.numel()
        for r, o in enumerate(outputs):
            o.copy_(flat[r * n:(r + 1) * n].view(o.shape))

    def reduce_scatter(self, output, inputs, op):
        from vibetensor import _functional as F
        if len(inputs) != self._size:
            raise ValueError(f"reduce_scatter: expected a list of {self._size} tensors (the world size), got "
                             f"{len(inputs)}")
        flat = F.cat([i.reshape(-1) for i in inputs]).contiguous()
        dt, stream = self._checked("reduce_scatter", output, op, output, flat)
        _check(library().ncclReduceScatter(flat.data_ptr(), output.data_ptr(), output.numel(), dt,
                                           self._op(op, "reduce_scatter"), self.comm, stream), "ncclReduceScatter")

    def barrier(self):
        from vibetensor import cuda
        one = _C._ops.full([1], 1, _C.dtype.float32, _C.device(f"cuda:{self.device}"))
        self.all_reduce(one, "sum")
        cuda.synchronize()

    def gather(self, tensor, gather_list, dst):
        self._same_call("gather", tensor, dst)  # through the store, but the check names the user's collective
        self._objects.gather(tensor, gather_list, dst)

    def scatter(self, tensor, scatter_list, src):
        self._same_call("scatter", tensor, src)
        self._objects.scatter(tensor, scatter_list, src)

    def all_gather_object(self, object_list, obj):
        self._objects.all_gather_object(object_list, obj)

    def broadcast_object_list(self, object_list, src):
        self._objects.broadcast_object_list(object_list, src)

    def shutdown(self):
        from vibetensor import cuda
        cuda.synchronize()
        self._objects.barrier()
        _check(library().ncclCommDestroy(self.comm), "ncclCommDestroy")
        self._objects.shutdown()
