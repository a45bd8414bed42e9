"""default_collate and default_convert: samples into batches, and numpy values into tensors, as torch does."""
import collections.abc
import re

import numpy as np

# numpy dtypes a tensor cannot hold (strings, objects): torch's rule for refusing them.
_NOT_NUMERIC = re.compile(r"[SaUO]")
_COLLATE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}")


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def default_convert(data):
    """numpy arrays and numpy scalars become tensors; containers are converted element by element."""
    import vibetensor
    if isinstance(data, vibetensor.Tensor):
        return data
    if isinstance(data, np.ndarray) or isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        if isinstance(data, np.ndarray) and _NOT_NUMERIC.search(data.dtype.str) is not None:
            return data
        return vibetensor.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        converted = {k: default_convert(v) for k, v in data.items()}
        return converted if type(data) is dict else _rebuild(data, converted)
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # torch returns a list for a tuple
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def default_collate(batch):
    """A list of samples into one batch: tensors are stacked along a new first dimension; numpy arrays and
    Python numbers become tensors (floats float64, ints int64); dicts, namedtuples, tuples and lists are
    collated field by field (a tuple becomes a list, as in torch); strings stay a list."""
    import vibetensor
    elem = batch[0]
    if isinstance(elem, vibetensor.Tensor):
        return vibetensor.stack(list(batch), 0)
    if isinstance(elem, np.ndarray) or isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        if _NOT_NUMERIC.search(elem.dtype.str) is not None:
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        if elem.shape == ():  # numpy scalars
            return vibetensor.as_tensor(np.array(batch))
        return default_collate([vibetensor.as_tensor(np.ascontiguousarray(b)) for b in batch])
    if isinstance(elem, float):
        return vibetensor.tensor(batch, dtype=vibetensor.float64)
    if isinstance(elem, int):  # bools too: a bool tensor
        return vibetensor.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        return collated if type(elem) is dict else _rebuild(elem, collated)
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = [default_collate(list(samples)) for samples in zip(*batch)]
        if isinstance(elem, (tuple, list)):
            return transposed
        try:
            return type(elem)(transposed)
        except TypeError:
            return transposed
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def _rebuild(mapping, items):
    """A mapping of `mapping`'s type holding `items`, or a dict if that type cannot be built from one."""
    try:
        return type(mapping)(items)
    except TypeError:
        return items
