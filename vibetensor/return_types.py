"""Named tuples returned by ops with several results (torch.return_types)."""
from collections import namedtuple

max = namedtuple("max", ["values", "indices"])  # noqa: A001 (torch.return_types.max)
min = namedtuple("min", ["values", "indices"])  # noqa: A001
sort = namedtuple("sort", ["values", "indices"])
topk = namedtuple("topk", ["values", "indices"])
cummax = namedtuple("cummax", ["values", "indices"])
cummin = namedtuple("cummin", ["values", "indices"])
