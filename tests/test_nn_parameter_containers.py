"""nn.ParameterList and nn.ParameterDict against torch's: registration (parameters, named_parameters,
state_dict both ways), tensors made Parameters, other values kept as attributes, list and dict operations,
ordering rules of update, gradients through a model that uses them, device moves, reprs, and the errors."""
from collections import OrderedDict

import pytest
import torch

import vibetensor as vt
from harness import assert_close, randn, to_torch, to_vt


def names(module):
    return [n for n, _ in module.named_parameters()]


def vt_repr(module):
    return repr(module).replace("vibetensor.", "torch.")


def test_parameter_list_registers_like_torch():
    values = [randn((2, 3), seed=i) for i in range(3)]
    tl = torch.nn.ParameterList([torch.nn.Parameter(values[0]), values[1], 7, values[2]])
    vl = vt.nn.ParameterList([vt.nn.Parameter(to_vt(values[0])), to_vt(values[1]), 7, to_vt(values[2])])
    assert len(vl) == len(tl) == 4
    assert names(vl) == names(tl) == ["0", "1", "3"]
    assert all(isinstance(p, vt.nn.Parameter) and p.requires_grad for p in (vl[0], vl[1], vl[-1]))
    assert vl[2] == 7 and vl[-2] == 7
    assert list(vl.state_dict()) == list(tl.state_dict())
    assert vt_repr(vl) == repr(tl)
    assert [type(x).__name__ for x in vl] == ["Parameter", "Parameter", "int", "Parameter"]
    assert "0" not in dir(vl) and "append" in dir(vl)


def test_parameter_list_operations():
    vl = vt.nn.ParameterList()
    assert len(vl) == 0 and names(vl) == []
    vl.append(vt.zeros(2)).extend([vt.ones(3), vt.ones(1)])
    vl += [vt.zeros(4)]
    assert [tuple(p.shape) for p in vl] == [(2,), (3,), (1,), (4,)]
    p = vt.nn.Parameter(vt.full((5,), 2.0))
    vl[1] = p
    assert vl[1] is p and names(vl) == ["0", "1", "2", "3"]
    sub = vl[1:3]
    assert isinstance(sub, vt.nn.ParameterList) and len(sub) == 2 and sub[0] is p
    assert [tuple(q.shape) for q in vl[::-2]] == [(4,), (5,)]
    with pytest.raises(IndexError, match="index 4 is out of range"):
        vl[4]
    with pytest.raises(IndexError, match="index -5 is out of range"):
        vl[-5] = vt.ones(1)
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an iterable, but got Tensor"):
        vl.extend(vt.ones(3))
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an iterable, but got int"):
        vl.extend(3)
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        vl(vt.ones(1))


def test_parameter_dict_registers_like_torch():
    a, b, c = randn((2,), seed=1), randn((3, 2), seed=2), randn((1,), seed=3)
    # a plain dict's keys are sorted, an OrderedDict's and a sequence's order is kept
    td = torch.nn.ParameterDict({"b": b, "a": a})
    vd = vt.nn.ParameterDict({"b": to_vt(b), "a": to_vt(a)})
    assert list(vd) == list(td) == ["a", "b"]
    td.update(OrderedDict([("z", c), ("c", torch.nn.Parameter(a)), ("note", "text")]))
    vd.update(OrderedDict([("z", to_vt(c)), ("c", vt.nn.Parameter(to_vt(a))), ("note", "text")]))
    assert list(vd.keys()) == list(td.keys()) == ["a", "b", "z", "c", "note"]
    assert names(vd) == names(td) == ["a", "b", "z", "c"]
    assert list(vd.state_dict()) == list(td.state_dict())
    assert vd["note"] == "text" and isinstance(vd["z"], vt.nn.Parameter)
    for k in ("a", "b", "z", "c"):
        assert_close(vd[k], td[k].detach())
    vd2 = vt.nn.ParameterDict([("y", vt.ones(1)), ("x", vt.zeros(1))])
    assert list(vd2) == ["y", "x"]
    lines = [line.split(": ", 1)[1] for line in repr(vd).splitlines()[1:-1]]
    assert lines == ["Parameter containing: [vibetensor.float32 of size 2]", "Parameter containing: "
                     "[vibetensor.float32 of size 3x2]", "Parameter containing: [vibetensor.float32 of size 1]",
                     "Parameter containing: [vibetensor.float32 of size 2]", "Object of type: str"]


def test_parameter_dict_operations():
    vd = vt.nn.ParameterDict()
    vd["w"] = vt.ones(2)
    assert vd.setdefault("w", vt.zeros(5)) is vd["w"] and tuple(vd["w"].shape) == (2,)
    assert tuple(vd.setdefault("v", vt.zeros(5)).shape) == (5,)
    assert "v" in vd and "u" not in vd and len(vd) == 2
    assert vd.get("u") is None and vd.get("u", 3) == 3
    assert list(reversed(vd)) == ["v", "w"]
    copy = vd.copy()
    assert list(copy) == ["w", "v"] and copy["w"] is vd["w"]
    merged = vd | vt.nn.ParameterDict({"t": vt.ones(1)})
    assert list(merged) == ["w", "v", "t"] and list(vd) == ["w", "v"]
    vd |= {"s": vt.ones(1)}
    assert list(vd) == ["w", "v", "s"]
    assert [k for k, _ in vd.items()] == list(vd.keys()) and len(list(vd.values())) == 3
    key, value = vd.popitem()
    assert key == "s" and tuple(value.shape) == (1,) and names(vd) == ["w", "v"]
    assert tuple(vd.pop("w").shape) == (2,) and names(vd) == ["v"]
    del vd["v"]
    assert len(vd) == 0 and names(vd) == []
    fresh = vd.fromkeys(["p", "q"], vt.ones(2))
    assert list(fresh) == ["p", "q"] and names(fresh) == ["p", "q"]
    shared = vd.fromkeys(["p", "q"], vt.nn.Parameter(vt.ones(2)))
    assert names(shared) == ["p"]  # one Parameter under two keys: listed once, as torch's
    fresh.clear()
    assert len(fresh) == 0
    with pytest.raises(KeyError, match="ParameterDict has no key 'nope'"):
        vd["nope"]
    with pytest.raises(AttributeError):  # torch's lookup is getattr: its error is an AttributeError
        vd["nope"]
    with pytest.raises(TypeError, match="not a string \\(type is 'int'\\)"):
        vd[1] = vt.ones(1)
    with pytest.raises(TypeError, match="should be called with an iterable of key/value pairs, but got int"):
        vd.update(3)
    with pytest.raises(TypeError, match="update sequence element #0 should be Iterable; is int"):
        vd.update([1])
    with pytest.raises(ValueError, match="update sequence element #1 has length 3; 2 is required"):
        vd.update([("a", vt.ones(1)), ("b", vt.ones(1), 3)])
    with pytest.raises(KeyError, match="name can.+t contain"):
        vd["a.b"] = vt.ones(1)
    assert "a.b" not in vd
    with pytest.raises(RuntimeError, match="ParameterDict should not be called"):
        vd()


def model_class(lib):
    """The same model written on torch or vibetensor (lib): a ParameterList of weights, a ParameterDict of scales."""

    class Model(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = lib.nn.ParameterList([lib.nn.Parameter(lib.randn(4, 4)) for _ in range(2)])
            self.scales = lib.nn.ParameterDict({"out": lib.nn.Parameter(lib.randn(4)), "in": lib.randn(4)})

        def forward(self, x):
            x = x * self.scales["in"]
            for w in self.layers:
                x = (x @ w).tanh()
            return x * self.scales["out"]

    return Model


TorchModel, VtModel = model_class(torch), model_class(vt)


def test_model_loads_torch_state_and_matches_gradients(device):
    torch.manual_seed(0)
    tm, vm = TorchModel(), VtModel()
    assert names(vm) == names(tm) == ["layers.0", "layers.1", "scales.in", "scales.out"]
    vm.load_state_dict(tm.state_dict())
    vm = vm.to(device)
    assert all(p.device.type == device for p in vm.parameters())
    assert isinstance(vm.layers[0], vt.nn.Parameter) and vm.layers[0] is next(iter(vm.parameters()))
    x = randn((3, 4), seed=4)
    out_t, out_v = tm(x), vm(to_vt(x, device))
    assert_close(out_v, out_t.detach(), rtol=1e-5, atol=1e-6)
    out_t.sum().backward()
    out_v.sum().backward()
    for (name, p), (_, q) in zip(tm.named_parameters(), vm.named_parameters()):
        assert_close(q.grad, p.grad, rtol=1e-5, atol=1e-6)
    back = TorchModel()
    back.load_state_dict({k: to_torch(v) for k, v in vm.state_dict().items()})
    assert_close(vm.scales["in"], back.scales["in"].detach())
