"""The gradient reducer of DistributedDataParallel over several ranks (Note [Gradient buckets])."""
import concurrent.futures
import threading
import weakref

from vibetensor import _C
from vibetensor import _factories
from vibetensor import _functional as F
from vibetensor import cuda
from vibetensor import distributed as dist
from vibetensor.autograd import engine
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.distributed.threads import ThreadProcessGroup

# Note [Gradient buckets]
# As torch's DDP Reducer: the parameters, in reverse registration order (roughly the order backward
# produces their gradients), are packed into buckets of at most bucket_cap_mb (25 MB by default) of one
# device and dtype. A hook on each parameter sees its gradient in backward; its contribution is the
# gradient it would accumulate (.grad so far plus this backward's, as torch's reducer copies the accumulated
# .grad), and when every parameter of a bucket has one, the bucket's contributions are flattened into one
# tensor and averaged over the ranks by one all_reduce. Under comm.overlap=bucketed (or DDP's overlap=True)
# that all_reduce runs on the reducer's communication thread while backward goes on; under after_backward
# every bucket is reduced once backward has returned, as a training loop averaging its gradients by hand.
# Buckets are launched strictly in bucket order, so every rank issues the same sequence of collectives
# whatever order its gradients arrived in. The hook
# hands the engine zeros to accumulate, and when the engine's backward returns (autograd.engine's
# post-backward callbacks) each .grad becomes its bucket's average: torch's result. Under no_sync() the hooks
# pass gradients through and nothing is reduced: they accumulate locally and join the next synchronized
# backward's average, as in torch. A parameter that gets no gradient leaves its bucket incomplete: with
# find_unused_parameters=True its contribution is its .grad (or zeros) when backward ends, and one more
# all_reduce counts the ranks that used each parameter, so that one no rank used keeps its .grad (None stays
# None), as torch's used-parameter map; without, the next forward raises, naming the parameters (torch's
# "Expected to have finished reduction in the prior iteration").


class _Bucket:
    def __init__(self, index, params):
        self.index, self.params = index, params
        self.grads = {}  # parameter position in the bucket -> its gradient of this backward
        self.future = None
        self.flat = None


class Reducer:
    def __init__(self, named_params, group, bucket_cap_mb, find_unused_parameters, overlap=None):
        # overlap: True / False, or None to follow the policy comm.overlap at each backward
        self.group, self.find_unused, self.overlap = group, find_unused_parameters, overlap
        self.names = {id(p): n for n, p in named_params}
        cap = int(bucket_cap_mb * 1024 * 1024)
        self.buckets, current, size, key = [], [], 0, None
        for _, p in reversed(named_params):
            k = (str(p.device), p.dtype)
            nbytes = p.numel() * p.element_size()
            if current and (k != key or size + nbytes > cap):
                self.buckets.append(_Bucket(len(self.buckets), current))
                current, size = [], 0
            current.append(p)
            size += nbytes
            key = k
        if current:
            self.buckets.append(_Bucket(len(self.buckets), current))
        self._lock = threading.Lock()  # the hooks run on the engine's threads
        self._pool = None  # the communication thread, made at the first overlapped backward
        self._overlapping = False  # this backward's mode, read at its first gradient
        self._next_launch = 0
        self.launched_in_backward = 0  # buckets whose all_reduce started before backward returned (last backward)
        self.pending = False  # a backward has produced gradients not yet reduced
        self.sync = True
        self._handles = []
        # The hooks, which the parameters own, and the engine's callback list reach the reducer weakly: no
        # cycle through C++ keeps a dropped model alive.
        me = weakref.ref(self)
        for b in self.buckets:
            for i, p in enumerate(b.params):
                self._handles.append(p.register_hook(_hook(me, b.index, i)))
        # a thread rank's reducer follows its own thread's backward only (Note [Thread ranks])
        owner = threading.current_thread() if isinstance(group, ThreadProcessGroup) else None
        engine.register_post_backward_callback(self._after_backward, owner)

    def _on_grad(self, index, i, grad):
        bucket = self.buckets[index]
        if not self.sync:
            return grad  # no_sync(): accumulate locally
        prior = bucket.params[i].grad
        with self._lock:
            if not self.pending:
                self.pending, self.launched_in_backward = True, 0
                self._overlapping = self.overlap if self.overlap is not None else \
                    _C._policy_get("comm.overlap") == "bucketed"
            bucket.grads[i] = grad.detach() if prior is None else prior.detach() + grad.detach()
            if self._overlapping and len(bucket.grads) == len(bucket.params):
                self._launch_ready(in_backward=True)
        return _factories.zeros_like(grad)

    def _launch_ready(self, in_backward=False):
        """Launches every complete bucket from the next in order (the ranks' common collective order)."""
        while self._next_launch < len(self.buckets):
            b = self.buckets[self._next_launch]
            if len(b.grads) != len(b.params):
                return
            self._launch(b)
            self._next_launch += 1
            self.launched_in_backward += in_backward

    def _launch(self, b):
        b.flat = _flatten([b.grads[i] for i in range(len(b.params))])
        if self._overlapping:
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="vt-ddp-comm")
            # on CUDA the all_reduce goes on the stream that produced the bucket, not the thread's own
            stream = cuda.current_stream(b.flat.device) if b.flat.device.type == "cuda" else None
            b.future = self._pool.submit(_all_reduce_on, stream, b.flat, self.group)
        else:
            dist.all_reduce(b.flat, dist.ReduceOp.AVG, self.group)

    def _wait_launched(self):
        """Waits for the bucket all-reduces in flight (before any other collective of this process, so that
        every rank numbers its collectives alike); re-raises the first failure."""
        errors = []
        for b in self.buckets:
            if b.future is not None:
                try:
                    b.future.result()
                except Exception as e:  # noqa: BLE001 - re-raised below, after every future is done
                    errors.append(e)
        if errors:
            raise errors[0]

    def _after_backward(self, failed=False):
        """The engine's backward has returned: reduce what remains, then make each .grad its average. A backward
        that raised reduces nothing: the buckets in flight are waited for and dropped."""
        with self._lock:
            if not self.pending:
                return
            if failed:
                try:
                    self._wait_launched()
                finally:
                    self._reset()
                return
            missing = [p for b in self.buckets[self._next_launch:] for i, p in enumerate(b.params)
                       if i not in b.grads]
            if missing and not self.find_unused:
                self._wait_launched()  # the next forward raises, naming them (check_previous_backward)
                return
            unused = {id(p) for p in missing}
            for b in self.buckets[self._next_launch:]:
                for i, p in enumerate(b.params):
                    if i not in b.grads:
                        b.grads[i] = _factories.zeros_like(p.detach()) if p.grad is None else p.grad.detach()
            self._launch_ready()
            try:
                with no_grad():
                    self._wait_launched()
                    users = self._count_users(unused) if self.find_unused else None
                    for b in self.buckets:
                        offset = 0
                        for p in b.params:
                            n = p.numel()
                            avg = b.flat[offset:offset + n].view(p.shape)
                            offset += n
                            if users is not None and users[id(p)] == 0:
                                continue  # no rank used it: its .grad stays as it was
                            if p.grad is None:
                                p.grad = avg.clone()
                            else:
                                p.grad.copy_(avg)
            finally:
                self._reset()

    def _count_users(self, unused):
        """How many ranks used each parameter in this backward: one all_reduce of a 0/1 vector (torch's
        local_used_map)."""
        params = [p for b in self.buckets for p in b.params]
        used = _factories.tensor([0 if id(p) in unused else 1 for p in params], dtype=_C.dtype.int32,
                                 device=params[0].device)  # where the group's collectives take tensors (nccl: CUDA)
        dist.all_reduce(used, dist.ReduceOp.SUM, self.group)  # after the buckets (waited): one order on every rank
        return dict(zip((id(p) for p in params), used.tolist()))

    def _reset(self):
        for b in self.buckets:
            b.grads, b.future, b.flat = {}, None, None
        self._next_launch = 0
        self.pending = False

    def check_previous_backward(self):
        """At forward: a backward whose buckets did not all complete is an error, naming the parameters that got
        no gradient (torch's DDP error without find_unused_parameters)."""
        with self._lock:
            if not self.pending:
                return
            missing = [self.names.get(id(p), "?") for b in self.buckets for i, p in enumerate(b.params)
                       if i not in b.grads]
            try:
                self._wait_launched()
            finally:
                self._reset()
        raise RuntimeError("DistributedDataParallel: expected to have finished reduction in the prior iteration "
                           "before starting a new one; these parameters got no gradient in that backward: "
                           f"{missing}. Pass find_unused_parameters=True to DistributedDataParallel, or make every "
                           "parameter take part in the loss")

    def close(self):
        engine.unregister_post_backward_callback(self._after_backward)
        for h in self._handles:
            h.remove()
        if self._pool:
            self._pool.shutdown(wait=True)


def _hook(reducer_ref, index, i):
    """The hook of parameter i of bucket `index`: it holds neither the reducer nor the bucket (whose parameters
    own the hook, through C++: a cycle Python's GC could not see)."""
    def hook(grad):
        reducer = reducer_ref()
        return grad if reducer is None else reducer._on_grad(index, i, grad)
    return hook


def _all_reduce_on(stream, flat, group):
    if stream is None:
        return dist.all_reduce(flat, dist.ReduceOp.AVG, group)
    with cuda.stream(stream):
        return dist.all_reduce(flat, dist.ReduceOp.AVG, group)


def _flatten(grads):
    return F.cat([g.reshape(-1) for g in grads])
