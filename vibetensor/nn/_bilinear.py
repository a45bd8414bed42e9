"""F.bilinear: y = x1^T A x2 + b for each of out_features matrices A, as one matrix product and a
reduction (x1 against every A at once, then the dot product with x2)."""
from vibetensor import _C

_ops = _C._ops


def bilinear(input1, input2, weight, bias=None):
    """input1 (*, in1), input2 (*, in2), weight (out, in1, in2), bias (out,) -> (*, out)."""
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D (out_features, in1_features, in2_features), got "
                           f"{weight.ndim}-D")
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.ndim} and {input2.ndim}")
    if input1.ndim == 0:
        raise RuntimeError("bilinear(): expected inputs of at least 1 dimension (*, in_features), got 0-D")
    for i, (a, b) in enumerate(zip(input1.shape[:-1], input2.shape[:-1])):
        if a != b:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: got {a} and {b}")
    out, in1, in2 = weight.shape
    if input1.shape[-1] != in1:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
                           f"expected {in1}")
    if input2.shape[-1] != in2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
                           f"expected {in2}")
    if bias is not None and tuple(bias.shape) != (out,):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {list(bias.shape)} but expected "
                           f"[{out}]")
    batch = list(input1.shape[:-1])
    x1, x2 = _ops.reshape(input1, [-1, in1]), _ops.reshape(input2, [-1, in2])
    # t[n, o, j] = sum_i x1[n, i] * weight[o, i, j]: one product with the weight laid out [in1, out * in2]
    t = _ops.matmul(x1, _ops.reshape(_ops.permute(weight, [1, 0, 2]), [in1, out * in2]))
    y = _ops.sum(_ops.mul(_ops.reshape(t, [-1, out, in2]), _ops.unsqueeze(x2, 1)), [2], False, None)
    if bias is not None:
        y = _ops.add(y, bias, 1)
    return _ops.reshape(y, batch + [out])
