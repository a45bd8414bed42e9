"""assert_close's default tolerances: (rtol, atol) per dtype, torch's table; the loosest of the two inputs'
dtypes applies. Integers and bools compare exactly."""
from vibetensor import _dtype

DTYPE_PRECISIONS = {
    _dtype.float16: (1e-3, 1e-5),
    _dtype.bfloat16: (1.6e-2, 1e-5),
    _dtype.float32: (1.3e-6, 1e-5),
    _dtype.float64: (1e-7, 1e-7),
}

# Python numbers compare with the tolerances of the dtype torch gives them (int: int64, float: float64; complex:
# complex128, whose tolerances are float64's).
NUMBER_DTYPES = {bool: _dtype.int64, int: _dtype.int64, float: _dtype.float64, complex: _dtype.float64}


class ToleranceError(ValueError):
    """Only one of rtol and atol was given."""


def tolerances(*dtypes, rtol=None, atol=None):
    """(rtol, atol): the given pair, or the loosest defaults of dtypes when both are omitted."""
    if (rtol is None) != (atol is None):
        raise ToleranceError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                             f"{'rtol' if rtol is None else 'atol'}.")
    if rtol is not None:
        return rtol, atol
    rtols, atols = zip(*(DTYPE_PRECISIONS.get(d, (0.0, 0.0)) for d in dtypes))
    return max(rtols), max(atols)
