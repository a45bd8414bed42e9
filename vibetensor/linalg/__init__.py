"""vibetensor.linalg (torch.linalg): vector and matrix norms.

vector_norm (any real ord), matrix_norm ('fro', 1, -1, inf, -inf) and norm (dispatching between them as
torch's). Decompositions and what builds on them (svd, eigh, qr, cholesky, solve, inv, det, the spectral matrix
norms 'nuc' and 2) are not here: vibetensor has no kernel for them yet."""
from vibetensor.linalg._matrix_norm import matrix_norm
from vibetensor.linalg._norm import norm
from vibetensor.linalg._vector_norm import vector_norm

__all__ = ["matrix_norm", "norm", "vector_norm"]
