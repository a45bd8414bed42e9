"""The shape checks the collectives of every backend make before they write a tensor: ranks that disagree, or a
result slot of another shape, raise instead of exchanging mismatched bytes or broadcasting into the slot."""


def check_same(op, shapes):
    """shapes: rank -> (shape, dtype name). Raises ValueError where the ranks differ."""
    if len(set(shapes.values())) > 1:
        raise ValueError(f"{op}: the ranks' tensors differ (rank: (shape, dtype)): {shapes}; expected one shape and "
                         "dtype on every rank")


def check_fits(op, slot, shape, rank):
    """A rank's tensor of `shape` is about to be copied into `slot`: copy_ would broadcast a smaller one into it,
    a silent wrong result, so the shapes must be equal (as torch requires)."""
    if tuple(slot.shape) != tuple(shape):
        raise ValueError(f"{op}: rank {rank}'s tensor has shape {tuple(shape)}, but the tensor it is written to here "
                         f"has shape {tuple(slot.shape)}; expected every tensor of the collective to have one shape")
