"""vibetensor.save / vibetensor.load (Note [Save format] in vibetensor/serialization.py): round trips of
tensors, modules' and optimizers' state, sharing of storages, map_location, and the refusals of
weights_only=True and of damaged files."""
import copy
import io
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import vibetensor as vt
from harness import CUDA_ONLY
from vibetensor import _pickling, nn, serialization

DTYPES = [vt.float32, vt.float64, vt.float16, vt.bfloat16, vt.int32, vt.int64, vt.bool]


def _roundtrip(obj, **load_args):
    buf = io.BytesIO()
    vt.save(obj, buf)
    buf.seek(0)
    return vt.load(buf, **load_args)


def _values(t):
    return np.asarray(t.detach().float().cpu()) if t.dtype is vt.bfloat16 else t.detach().cpu().numpy()


def _sample(dtype, shape=(3, 4)):
    values = np.arange(int(np.prod(shape))).reshape(shape) * 3 - 5
    return vt.tensor(values % 2 == 0) if dtype is vt.bool else vt.tensor(values).to(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_tensor_roundtrip_keeps_dtype_shape_values(dtype):
    x = _sample(dtype)
    y = _roundtrip({"x": x, "scalar": x[1, 2]})
    for a, b in ((x, y["x"]), (x[1, 2], y["scalar"])):
        assert b.dtype is dtype and b.shape == a.shape and b.device.type == "cpu"
        np.testing.assert_array_equal(_values(b), _values(a))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_non_contiguous_views_share_one_storage_after_load(dtype):
    base = _sample(dtype, (4, 6))
    view_t, view_s = base.t(), base[1:3, ::2]
    a, b, c = _roundtrip([base, view_t, view_s])
    assert not b.is_contiguous() and b.stride() == view_t.stride()
    np.testing.assert_array_equal(_values(b), _values(view_t))
    np.testing.assert_array_equal(_values(c), _values(view_s))
    assert a._storage_id() == b._storage_id() == c._storage_id()
    a.fill_(True if dtype is vt.bool else 7)  # a write through one is seen by the others
    np.testing.assert_array_equal(_values(c), _values(a)[1:3, ::2])


def test_storage_bytes_are_written_once():
    big = vt.zeros(10000)
    buf = io.BytesIO()
    vt.save([big, big[:10], big.view(100, 100).t()], buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        storages = [n for n in z.namelist() if n.startswith("storages/")]
        assert len(storages) == 1 and z.getinfo(storages[0]).file_size == 40000


def test_requires_grad_and_parameters():
    p = nn.Parameter(vt.randn(2, 3))
    frozen = nn.Parameter(vt.ones(2), requires_grad=False)
    t = vt.randn(3).requires_grad_()
    lp, lf, lt, plain = _roundtrip((p, frozen, t, vt.ones(1)))
    assert type(lp) is nn.Parameter and lp.requires_grad and lp.is_leaf
    assert type(lf) is nn.Parameter and not lf.requires_grad
    assert type(lt) is vt.Tensor and lt.requires_grad and lt.is_leaf
    assert not plain.requires_grad
    np.testing.assert_array_equal(_values(lp), _values(p))


def test_nested_containers_numbers_strings_dtypes_devices():
    obj = {"epoch": 3, "lr": 1e-3, "name": "gpt", "none": None, "flag": True, "blob": b"\x00\xff",
           "nested": {"list": [1, 2.5, "x"], "tuple": (vt.ones(2), 4), "set": {1, 2}},
           "od": OrderedDict(a=vt.zeros(1), b=2), "empty": vt.zeros(0, 3), "dtype": vt.bfloat16, "device": vt.device("cpu")}
    got = _roundtrip(obj)
    assert got.keys() == obj.keys() and type(got["od"]) is OrderedDict
    for k in ("epoch", "lr", "name", "none", "flag", "blob", "dtype", "device"):
        assert got[k] == obj[k] and type(got[k]) is type(obj[k]), k
    assert got["nested"]["list"] == [1, 2.5, "x"] and got["nested"]["set"] == {1, 2}
    np.testing.assert_array_equal(_values(got["nested"]["tuple"][0]), [1, 1])
    assert got["empty"].shape == (0, 3)


def test_module_state_dict_roundtrip(tmp_path):
    vt.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2))
    vt.save(model.state_dict(), tmp_path / "model.pt")  # a pathlib.Path
    fresh = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2))
    fresh.load_state_dict(vt.load(str(tmp_path / "model.pt")))  # a str path
    mine, theirs = model.state_dict(), fresh.state_dict()
    assert mine.keys() == theirs.keys()
    for k in mine:
        np.testing.assert_array_equal(_values(theirs[k]), _values(mine[k]))


def _train(model, opt, steps):
    losses = []
    x = vt.arange(24).reshape(6, 4).float() / 10
    y = vt.arange(12).reshape(6, 2).float() / 7
    for _ in range(steps):
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _model_and_opt():
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    return model, vt.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)


def test_resumed_adamw_training_equals_uninterrupted(tmp_path):
    vt.manual_seed(1)
    model, opt = _model_and_opt()
    init = {k: v.clone() for k, v in model.state_dict().items()}
    uninterrupted = _train(model, opt, 6)

    vt.manual_seed(2)
    model, opt = _model_and_opt()
    model.load_state_dict(init)
    first = _train(model, opt, 3)
    vt.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "iter": 3}, tmp_path / "ckpt.pt")
    ckpt = vt.load(tmp_path / "ckpt.pt")
    model, opt = _model_and_opt()
    model.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["optimizer"])
    resumed = first + _train(model, opt, 3)
    assert ckpt["iter"] == 3
    assert resumed == uninterrupted  # exactly: the same values through the same ops


def test_file_object_and_path_give_the_same_object(tmp_path):
    x = vt.randn(5)
    with open(tmp_path / "f.pt", "wb") as f:
        vt.save(x, f)
    with open(tmp_path / "f.pt", "rb") as f:
        from_file = vt.load(f)
    np.testing.assert_array_equal(_values(from_file), _values(vt.load(tmp_path / "f.pt")))
    np.testing.assert_array_equal(_values(from_file), _values(x))


def test_plain_pickle_and_copy():
    x = vt.randn(2, 3).t()
    y = pickle.loads(pickle.dumps(x))  # storages in-band
    np.testing.assert_array_equal(_values(y), _values(x))
    assert y._storage_id() != x._storage_id()
    shallow = copy.copy(x)
    assert shallow._storage_id() == x._storage_id() and shallow.stride() == x.stride()


class Foreign:
    def __init__(self, v):
        self.v = v


def test_foreign_class_refused_under_weights_only(tmp_path):
    vt.save({"obj": Foreign(3), "t": vt.ones(1)}, tmp_path / "foreign.pt")
    with pytest.raises(pickle.UnpicklingError, match=r"test_serialization\.Foreign.*weights_only=False"):
        vt.load(tmp_path / "foreign.pt")
    got = vt.load(tmp_path / "foreign.pt", weights_only=False)
    assert isinstance(got["obj"], Foreign) and got["obj"].v == 3


def _archive_with_pickle(path, payload, saved=None):
    """The archive of vt.save(saved) with its pickle replaced by `payload` (as a malicious file would be)."""
    buf = io.BytesIO()
    vt.save(saved, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(path, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, payload if name == "data.pkl" else src.read(name))


class _CallsPrint:
    def __reduce__(self):
        return print, ("foreign code ran",)


def test_code_calling_global_refused_under_weights_only(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    _archive_with_pickle(path, pickle.dumps(_CallsPrint(), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r"builtins\.print"):
        vt.load(path)
    assert "foreign code ran" not in capsys.readouterr().out
    vt.load(path, weights_only=False)
    assert "foreign code ran" in capsys.readouterr().out


def test_truncated_and_corrupt_files_give_clear_errors(tmp_path):
    buf = io.BytesIO()
    vt.save({"w": vt.randn(100)}, buf)
    data = buf.getvalue()
    for bad in (data[: len(data) // 2], b"", b"not a zip file at all"):
        with pytest.raises(RuntimeError, match="truncated, corrupt"):
            vt.load(io.BytesIO(bad))
    path = tmp_path / "garbled.pt"
    _archive_with_pickle(path, pickle.dumps({"a": 1}, protocol=2)[:-3])
    with pytest.raises(RuntimeError, match="corrupt"):
        vt.load(path)


class _Hostile:
    """A tensor reduce whose geometry reaches past its 2-element storage."""

    def __reduce__(self):
        return _pickling._rebuild_tensor, (_STORAGE, 0, (1000,), (1,), False)


_STORAGE = object()


class _HostilePickler(pickle.Pickler):
    def persistent_id(self, obj):
        return ("storage", 0, "float32", "cpu", 8) if obj is _STORAGE else None


def test_geometry_outside_the_storage_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "hostile.pt"
    payload = io.BytesIO()
    _HostilePickler(payload, 2).dump(_Hostile())
    _archive_with_pickle(path, payload.getvalue(), vt.ones(2))  # storages/0: the 8 bytes the pickle names
    with pytest.raises(RuntimeError, match="out of bounds for storage"):
        vt.load(path)


def test_torch_archive_is_named(tmp_path):
    path = tmp_path / "torch.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({}))
    with pytest.raises(RuntimeError, match="torch.save file"):
        vt.load(path)


def test_map_location_forms_on_cpu():
    x = vt.randn(3)
    for ml in ("cpu", vt.device("cpu"), {"cpu": "cpu"}, lambda storage, loc: storage, lambda storage, loc: None):
        y = _roundtrip(x, map_location=ml)
        assert y.device.type == "cpu"
        np.testing.assert_array_equal(_values(y), _values(x))
    seen = []
    _roundtrip([x, x[1:]], map_location=lambda storage, loc: seen.append(loc))
    assert seen == ["cpu"]  # once per storage
    with pytest.raises(TypeError, match="map_location"):
        _roundtrip(x, map_location=3)


@pytest.mark.parametrize("device", CUDA_ONLY)
def test_cuda_tensor_saves_its_device_and_maps_to_cpu(device):
    x = vt.randn(4, 4, device=device).t()
    buf = io.BytesIO()
    vt.save([x, x[0]], buf)
    on_gpu = vt.load(io.BytesIO(buf.getvalue()))
    assert on_gpu[0].device == x.device and on_gpu[0]._storage_id() == on_gpu[1]._storage_id()
    for ml in ("cpu", {"cuda:0": "cpu"}, lambda storage, loc: storage):
        on_cpu = vt.load(io.BytesIO(buf.getvalue()), map_location=ml)
        assert on_cpu[0].device.type == "cpu"
        np.testing.assert_array_equal(_values(on_cpu[0]), _values(x))
    back = vt.load(io.BytesIO(_cpu_saved()), map_location="cuda:0")
    assert back.device == vt.device("cuda:0")


def _cpu_saved():
    buf = io.BytesIO()
    vt.save(vt.ones(2), buf)
    return buf.getvalue()


class _SavedOnCuda(serialization._Pickler):
    """Records every storage as saved on cuda:0: a GPU checkpoint, written without a GPU."""

    def persistent_id(self, obj):
        pid = super().persistent_id(obj)
        return None if pid is None else pid[:3] + ("cuda:0",) + pid[4:]


def _gpu_checkpoint(obj):
    data = io.BytesIO()
    pickler = _SavedOnCuda(data, 2)
    pickler.dump(obj)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("vibetensor_format", serialization._MAGIC)
        z.writestr("data.pkl", data.getvalue())
        for i, ref in enumerate(pickler.storages):
            z.writestr(f"storages/{i}", ref.host_bytes())
    return out.getvalue()


@pytest.mark.skipif(vt.cuda.is_available(), reason="checks the error of a machine without a GPU")
def test_cuda_checkpoint_without_gpu_names_map_location():
    x = vt.randn(3, 2)
    saved = _gpu_checkpoint({"x": x})
    with pytest.raises(RuntimeError, match=r"cuda:0.*map_location='cpu'"):
        vt.load(io.BytesIO(saved))
    with pytest.raises(RuntimeError, match="map_location='cpu'"):
        vt.load(io.BytesIO(_cpu_saved()), map_location="cuda:0")
    for ml in ("cpu", {"cuda:0": "cpu"}, lambda storage, loc: storage):
        got = vt.load(io.BytesIO(saved), map_location=ml)["x"]
        assert got.device.type == "cpu"
        np.testing.assert_array_equal(_values(got), _values(x))


def test_mmap_refused():
    with pytest.raises(NotImplementedError, match="mmap"):
        vt.load(io.BytesIO(_cpu_saved()), mmap=True)



def _archive_of(payload: bytes) -> io.BytesIO:
    """A save archive whose pickle is `payload` (made from a real save, so the rest of the format is right)."""
    src, out = io.BytesIO(), io.BytesIO()
    vt.save({}, src)
    src.seek(0)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, payload if info.filename.endswith("data.pkl") else zin.read(info))
    out.seek(0)
    return out


@pytest.mark.parametrize("form", ["getattr", "call"])
def test_dtypes_pickled_by_any_python_311_load_under_weights_only(form):
    # Python 3.11.2 pickles an enum member as getattr(cls, name), later 3.11 releases as cls(value)
    class Shim:
        def __reduce__(self):
            if form == "getattr":
                return getattr, (vt.dtype, "bfloat16")
            return vt.dtype, (vt.bfloat16.value,)

    class P(pickle.Pickler):
        def reducer_override(self, obj):
            return Shim().__reduce__() if obj is vt.bfloat16 else NotImplemented

    buf = io.BytesIO()
    P(buf, protocol=2).dump({"d": vt.bfloat16})
    assert vt.load(_archive_of(buf.getvalue()))["d"] is vt.bfloat16


def test_getattr_on_anything_but_a_dtype_is_refused():
    class Escape:
        def __reduce__(self):
            return getattr, (OrderedDict, "fromkeys")

    payload = pickle.dumps({"x": Escape()}, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="getattr.*not a vibetensor dtype"):
        vt.load(_archive_of(payload))


def test_saved_dtypes_do_not_depend_on_the_python_release():
    data = pickle.dumps(vt.float16, protocol=2)
    assert b"_rebuild_dtype" in data and pickle.loads(data) is vt.float16
