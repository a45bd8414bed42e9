"""autograd.executor=python: backward driven by a Python loop instead of the C++ engine.
See Note [Python backward executor] below.
"""
from vibetensor import _C

# Note [Python backward executor]
# VibeTensor's GPT and ViT examples do not use an autograd engine: their models' bwd() methods are
# hand-written Python that calls one backward kernel wrapper after another (vibe_kernels.ops,
# NVlabs/vibetensor), so between two backward kernels the host runs Python with the GIL held. This
# executor reproduces that host path on vibetensor's graph: it finds the nodes that lead from the
# outputs to the leaves (Python sets and dicts), counts their dependencies, and runs them in a ready
# order from Python: each node's formula is called through its binding (Node.apply, which releases
# the GIL inside C++ as an op call does), missing gradients are zero-filled, and each result is added
# into its consumer's buffer with a Python-level add. The kernels are the engine's; what differs is
# that every node costs a round trip through Python, and no worker threads, owner routing or
# backward gate are involved (the hand-written backward had none). The MNIST-autograd example keeps
# the engine: it uses VibeTensor's autograd.
#
# autograd.grad, backward(inputs=...) (captures) and create_graph=True (Note [Double backward] in
# csrc/autograd/node.h) run on the engine under either value. Python autograd Functions run here as any node (their
# binding keeps the GIL for them).

_count = _C._count


def _walk(roots):
    """Nodes reachable from `roots` (list of (node, input_nr)) and each node's dependency count."""
    deps = {}
    seen = set()
    stack = [node for node, _ in roots]
    for node in stack:
        seen.add(node)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen, deps


def run_backward(outputs, grads, retain_graph):
    """Backpropagates `grads` (one per output) from `outputs` to every leaf's .grad, node by node from Python."""
    from vibetensor.autograd.grad_mode import no_grad

    import vibetensor as vt

    roots = []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        edge = _C._gradient_edge(out) if out.requires_grad else None
        if edge is None:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if out.numel() != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs (got shape {tuple(out.shape)})")
            g = vt.ones_like(out)
        elif tuple(g.shape) != tuple(out.shape):
            raise ValueError(f"backward: gradient of shape {tuple(g.shape)} does not match output shape "
                             f"{tuple(out.shape)}")
        roots.append((edge, g))
    nodes, deps = _walk([edge for edge, _ in roots])
    _count("backward_calls")
    buffers = {}

    def add(node, slot, grad):
        if grad is None:
            return
        buf = buffers.setdefault(node, [None] * max(node.num_inputs, 1))
        buf[slot] = grad if buf[slot] is None else buf[slot] + grad

    ready = []
    for (node, slot), g in roots:
        add(node, slot, g)
    # Roots that no other node feeds are ready now; a root also reached from another root waits.
    for (node, _), _g in roots:
        if deps.get(node, 0) == 0 and node not in ready:
            ready.append(node)
    with no_grad():
        while ready:
            node = ready.pop()
            grads_in = buffers.pop(node, [None] * max(node.num_inputs, 1))
            if not node.is_accumulate_grad:
                grads_in = [node.zeros_for(i) if g is None and i < node.num_inputs else g
                            for i, g in enumerate(grads_in)]
            _count("autograd_nodes_executed")
            outs = node.apply(grads_in)
            if not retain_graph:
                node.release_variables()
            for (nxt, slot), g in zip(node.next_functions, outs):
                if nxt is None:
                    continue
                add(nxt, slot, g)
                deps[nxt] -= 1
                if deps[nxt] == 0:
                    ready.append(nxt)
