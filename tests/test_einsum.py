"""einsum (Note [einsum plan]) against torch on every device: matrix products, batches, traces and diagonals,
outer products, ellipses, broadcasting, implicit outputs, three operands; values and gradients; errors."""
import pytest
import torch

import vibetensor as vt
from harness import check_op, randn

CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("bhqk,bhkd->bhqd", [(2, 3, 4, 6), (2, 3, 6, 5)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,i->", [(5,), (5,)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ijk->kj", [(2, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,jk", [(2, 2, 3, 4), (4, 5)]),
    ("b...d,bd->b...", [(2, 3, 4, 5), (2, 5)]),
    ("bij,bjk->bik", [(1, 3, 4), (2, 4, 5)]),  # size 1 broadcasts
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ab,cd,bd->ac", [(2, 3), (4, 5), (3, 5)]),
    ("iij->j", [(3, 3, 4)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
]


@pytest.mark.parametrize("equation,shapes", CASES)
def test_einsum(device, equation, shapes):
    xs = [randn(s, torch.float64, seed=i).requires_grad_() for i, s in enumerate(shapes)]
    check_op(lambda *v: vt.einsum(equation, *v), lambda *t: torch.einsum(equation, *t), xs, device)


def test_operands_as_a_list(device):
    xs = [randn((3, 4)).requires_grad_(), randn((4,), seed=1).requires_grad_()]
    check_op(lambda *v: vt.einsum("ij,j->i", list(v)), lambda *t: torch.einsum("ij,j->i", list(t)), xs, device)


def test_errors():
    a, b = vt.randn(3, 4), vt.randn(5, 6)
    with pytest.raises(RuntimeError, match="operands do not broadcast with remapped shapes: subscript 'j' has size 4 "
                                           "and 5"):
        vt.einsum("ij,jk->ik", a, b)
    with pytest.raises(ValueError, match="names 2 operands but 1 were given"):
        vt.einsum("ij,jk->ik", a)
    with pytest.raises(RuntimeError, match="the subscripts 'ijk' name 3 dims but the operand has 2"):
        vt.einsum("ijk->i", a)
    with pytest.raises(ValueError, match="output subscript 'z' appears in no operand"):
        vt.einsum("ij->z", a)
    with pytest.raises(ValueError, match="invalid subscript '1'"):
        vt.einsum("i1->i", a)
