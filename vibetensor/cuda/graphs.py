"""CUDA graphs in the style of torch.cuda: CUDAGraph, graph(), graph_pool_handle().

See Note [CUDA graph capture] (csrc/cuda/graph/graph.h) and Note [Graph memory pools]
(csrc/alloc/allocator.h). Capture needs alloc.cuda=caching; a host synchronization inside a
capture (synchronize(), .item(), a synchronous copy, a scalars.cuda=device_copy upload) raises
RuntimeError naming the call.
"""
from __future__ import annotations

from typing import Optional

from vibetensor import _C

_cuda = _C._cuda


def _require() -> None:
    from vibetensor import cuda

    cuda._require()


def graph_pool_handle() -> int:
    """An id of a private memory pool that several graphs may share (pass it as ``pool=``)."""
    _require()
    return _cuda.graph_pool_handle()


class CUDAGraph:
    """A captured sequence of CUDA work, replayed with one launch."""

    def __init__(self):
        _require()
        self._g = _cuda.Graph()

    def capture_begin(self, pool: Optional[int] = None) -> None:
        """Starts capturing the work issued on the current (non-default) stream of this thread."""
        self._g.capture_begin(0 if pool is None else int(pool))

    def capture_end(self) -> None:
        self._g.capture_end()

    def replay(self) -> None:
        """Launches the captured work on the current stream."""
        self._g.replay()

    def reset(self) -> None:
        """Drops the capture and gives its memory pool back."""
        self._g.reset()

    def pool(self) -> int:
        """The id of this graph's private memory pool (for ``pool=`` of another capture)."""
        return self._g.pool()

    def __repr__(self) -> str:
        state = "capturing" if self._g.capturing else ("captured" if self._g.captured else "empty")
        return f"<vibetensor.cuda.CUDAGraph {state} pool={self._g.pool()}>"


class graph:
    """``with vibetensor.cuda.graph(g):`` captures the block into ``g`` on a side stream.

    As torch.cuda.graph: the side stream (``stream`` or a pool stream) first waits for the work
    already queued on the current stream, the capture runs with it current, and the previous
    stream is current again afterwards. If the block raises, the partial capture is dropped.
    """

    def __init__(self, cuda_graph: CUDAGraph, pool: Optional[int] = None, stream=None):
        from vibetensor import cuda

        self.cuda_graph = cuda_graph
        self.pool = pool
        self.capture_stream = stream if stream is not None else cuda.Stream()
        self._stream_ctx = None

    def __enter__(self):
        from vibetensor import cuda

        self.capture_stream.wait_stream(cuda.current_stream())
        self._stream_ctx = cuda.stream(self.capture_stream)
        self._stream_ctx.__enter__()
        try:
            self.cuda_graph.capture_begin(pool=self.pool)
        except BaseException:
            self._stream_ctx.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.cuda_graph.capture_end()
            else:
                self.cuda_graph.reset()
        finally:
            self._stream_ctx.__exit__(None, None, None)
        return False
