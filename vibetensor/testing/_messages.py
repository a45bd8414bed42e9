"""assert_close's failure messages, in torch's words: the number of mismatched elements, the greatest absolute
and relative differences (among the mismatches) with their indices, and the tolerances allowed."""
from vibetensor import _dtype
from vibetensor import _functional


def mismatch_message(default_identifier, extra, abs_diff, abs_diff_idx, atol, rel_diff, rel_diff_idx, rtol):
    equality = rtol == 0 and atol == 0

    def diff_line(kind, diff, idx, tol):
        if idx is None:
            line = f"{kind.title()} difference: {diff}"
        else:
            line = f"Greatest {kind} difference: {diff} at index {idx}"
        return line + ("" if equality else f" (up to {tol} allowed)") + "\n"

    msg = f"{default_identifier} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += f"{extra.strip()}\n"
    msg += diff_line("absolute", abs_diff, abs_diff_idx, atol)
    msg += diff_line("relative", rel_diff, rel_diff_idx, rtol)
    return msg.strip()


def scalar_mismatch_message(actual, expected, rtol, atol):
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return mismatch_message("Scalars", f"Expected {expected} but got {actual}.", abs_diff, None, atol, rel_diff, None,
                            rtol)


def _unravel(flat_index, shape):
    index = []
    for size in reversed(shape):
        flat_index, mod = divmod(flat_index, size)
        index.append(mod)
    return tuple(reversed(index))


def tensor_mismatch_message(actual, expected, matches, rtol, atol):
    """actual, expected: tensors of one shape, dtype and device; matches: their elementwise verdicts."""
    total = matches.numel()
    mismatches = total - int(matches.sum().item())
    extra = f"Mismatched elements: {mismatches} / {total} ({mismatches / total:.1%})"
    actual_flat, expected_flat, matches_flat = actual.flatten(), expected.flatten(), matches.flatten()
    if not actual.dtype.is_floating_point:  # integers and bools: differences in int64 (no wrap-around)
        actual_flat, expected_flat = actual_flat.to(_dtype.int64), expected_flat.to(_dtype.int64)
    abs_diff = _functional.where(matches_flat, 0, (actual_flat - expected_flat).abs())  # mismatches only
    max_abs, max_abs_idx = abs_diff.max(0)
    rel_diff = _functional.where(matches_flat, 0, abs_diff / expected_flat.abs())
    max_rel, max_rel_idx = rel_diff.max(0)
    return mismatch_message("Tensor-likes", extra, max_abs.item(), _unravel(max_abs_idx.item(), matches.shape), atol,
                            max_rel.item(), _unravel(max_rel_idx.item(), matches.shape), rtol)
