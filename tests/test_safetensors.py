"""vibetensor.safetensors (Note [safetensors checks]): round trips of every dtype on every device, CPU loads
that view the file's private map, lazy safe_open, models, files written and read by the `safetensors`
package, every header check with its message, and a fuzz of random mutations and truncations of valid
files in which every load either raises SafetensorError or returns exactly the tensors the bytes hold."""
import json
import random
import struct

import numpy as np
import pytest
import torch

import vibetensor as vt
from vibetensor import safetensors as st

from harness import assert_close, randn, to_torch, to_vt

DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.bool]


def sample(dtype, shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    if dtype == torch.bool:
        return torch.rand(shape, generator=g) > 0.5
    if not dtype.is_floating_point:
        return torch.randint(-1000, 1000, shape, generator=g, dtype=dtype)
    return torch.randn(shape, generator=g).to(dtype)


def tensors(device):
    out = {f"{str(d).split('.')[1]}_{i}": to_vt(sample(d, shape, seed=i), device)
           for i, (d, shape) in enumerate((d, s) for d in DTYPES for s in [(3, 5), (), (0, 4), (7,)])}
    out["strided"] = to_vt(sample(torch.float32, (6, 8), 9), device).t()[::2]
    return out


def same(a, b):
    assert tuple(a.shape) == tuple(b.shape) and a.dtype == b.dtype
    if a.dtype == vt.bfloat16:
        a, b = a.float(), b.float()
    assert_close(a, to_torch(b), rtol=0, atol=0)


def test_round_trip_of_every_dtype_and_layout(device, tmp_path):
    src = tensors(device)
    path = tmp_path / "t.safetensors"
    st.save_file(src, str(path), metadata={"format": "pt", "step": "7"})
    got = st.load_file(str(path), device=device)
    assert set(got) == set(src)
    for k in src:
        assert got[k].device == src[k].device
        same(got[k], src[k])
    with st.safe_open(str(path), framework="pt", device=device) as f:
        assert f.metadata() == {"format": "pt", "step": "7"} and f.keys() == sorted(src)
        same(f.get_tensor("float32_0"), src["float32_0"])


def test_cpu_loads_view_a_private_map(tmp_path):
    """An aligned CPU tensor points into the file's map (no copy); writing it changes neither the file nor
    a second load."""
    path = tmp_path / "v.safetensors"
    st.save_file({"w": vt.arange(64, dtype=vt.float32), "b": vt.ones(3, dtype=vt.bfloat16)}, str(path))
    with st.safe_open(str(path)) as f:
        base = np.frombuffer(f._map, dtype=np.uint8).ctypes.data
        w = f.get_tensor("w")
        assert base <= w.data_ptr() < base + len(f._map)
        b = f.get_tensor("b")  # bfloat16: copied out (numpy has no bfloat16)
        assert not base <= b.data_ptr() < base + len(f._map)
    w.mul_(0)
    assert to_torch(st.load_file(str(path))["w"]).tolist() == list(range(64))


def test_bytes_api_and_models(device, tmp_path):
    vt.manual_seed(0)
    model = vt.nn.Sequential(vt.nn.Linear(4, 5), vt.nn.LayerNorm(5)).to(device)
    path = str(tmp_path / "m.safetensors")
    st.save_model(model, path)
    vt.manual_seed(1)
    other = vt.nn.Sequential(vt.nn.Linear(4, 5), vt.nn.LayerNorm(5)).to(device)
    assert st.load_model(other, path, device=device) == ([], [])
    for k, v in model.state_dict().items():
        same(other.state_dict()[k], v)
    smaller = vt.nn.Sequential(vt.nn.Linear(4, 5))
    with pytest.raises(RuntimeError, match="unexpected keys"):
        st.load_model(smaller, path)
    assert st.load_model(smaller, path, strict=False)[1] == ["1.bias", "1.weight"]
    blob = st.save({"x": vt.arange(5)})
    assert to_torch(st.load(blob)["x"]).tolist() == [0, 1, 2, 3, 4]


def test_interoperates_with_the_safetensors_package(tmp_path):
    """torch tensors written by safetensors.torch read back in vibetensor, and vibetensor's files read by it."""
    sf = pytest.importorskip("safetensors.torch")
    ref = {f"t{i}": sample(d, (4, 3), seed=i) for i, d in enumerate(DTYPES)}
    theirs = str(tmp_path / "theirs.safetensors")
    sf.save_file(ref, theirs, metadata={"a": "b"})
    got = st.load_file(theirs)
    for k, v in ref.items():
        assert_close(got[k].float() if v.dtype == torch.bfloat16 else got[k], v.float() if v.dtype == torch.bfloat16 else v,
                     rtol=0, atol=0)
    ours = str(tmp_path / "ours.safetensors")
    st.save_file({k: to_vt(v) for k, v in ref.items()}, ours, metadata={"c": "d"})
    back = sf.load_file(ours)
    for k, v in ref.items():
        assert torch.equal(back[k], v), k


def _file(header, data=b"", raw_header=None):
    text = raw_header if raw_header is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


GOOD = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}


@pytest.mark.parametrize("blob,message", [
    (b"\x01\x02", "header too small"),
    (struct.pack("<Q", 200_000_000) + b"{}", "header too large"),
    (struct.pack("<Q", 50) + b"{}", "invalid header length"),
    (_file(None, raw_header=b"\xff\xfe{}"), "not UTF-8"),
    (_file(None, raw_header=b"{not json"), "not JSON"),
    (_file(None, raw_header=b"[1, 2]"), "expected a JSON object"),
    (_file(None, raw_header=b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, '
                            b'"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', data=b"\0" * 4), "twice"),
    (_file({"a": {"dtype": "Q7", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8), "unknown dtype"),
    (_file({"a": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]}}, b"\0" * 8), "no tensor type"),
    (_file({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, b"\0" * 8), "non-negative"),
    (_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}, b"\0" * 8), "after its end"),
    (_file({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8), "tensor invalid info"),
    (_file({"a": {"dtype": "F32", "shape": [2 ** 40, 2 ** 40], "data_offsets": [0, 8]}}, b"\0" * 8), "overflow"),
    (_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12), "invalid offset"),
    (_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12), "invalid offset"),
    (_file(GOOD, b"\0" * 12), "incomplete buffer"),
    (_file(GOOD, b"\0" * 4), "invalid header length|incomplete buffer|tensor invalid"),
    (_file({"__metadata__": {"k": 1}, **GOOD}, b"\0" * 8), "__metadata__"),
    (_file({"a": {"dtype": "F32", "shape": [2]}}, b"\0" * 8), "exactly dtype"),
], ids=lambda x: x if isinstance(x, str) else None)
def test_every_header_check_raises_naming_it(blob, message, tmp_path):
    with pytest.raises(st.SafetensorError, match=message):
        st.load(blob)
    path = tmp_path / "bad.safetensors"
    path.write_bytes(blob)
    with pytest.raises(st.SafetensorError, match=message):
        st.load_file(str(path))


def test_bad_save_arguments_raise():
    with pytest.raises(TypeError, match="dict"):
        st.save([vt.ones(2)])
    with pytest.raises(TypeError, match="expected a tensor"):
        st.save({"a": np.ones(2)})
    with pytest.raises(st.SafetensorError, match="metadata"):
        st.save({"a": vt.ones(2)}, metadata={"k": 3})
    with pytest.raises(st.SafetensorError, match="names"):
        st.save({"__metadata__": vt.ones(2)})
    with pytest.raises(KeyError, match="no tensor named"):
        st.safe_open.__new__(st.safe_open).get_tensor.__func__(type("F", (), {"_entries": {}})(), "x")
    with pytest.raises(ValueError, match="device"):
        st.load_file("x", device="meta")


def _expected_from_bytes(blob):
    """An independent reading of a blob whose header is valid: {name: numpy array} from the header's offsets."""
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n].decode())
    header.pop("__metadata__", None)
    np_types = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32,
                "BOOL": np.bool_, "BF16": np.uint16}
    out = {}
    for name, info in header.items():
        b0, b1 = info["data_offsets"]
        out[name] = (info["dtype"], np.frombuffer(blob[8 + n + b0:8 + n + b1], dtype=np_types[info["dtype"]]).reshape(
            info["shape"]))
    return out


def test_fuzzed_files_raise_or_load_exactly_their_bytes():
    """3000 mutations (byte flips anywhere or in the data, truncations, appended bytes, header edits) of valid files: each load raises
    SafetensorError or gives tensors equal to an independent reading of the same bytes."""
    rng = random.Random(0)
    bases = [st.save({"w": vt.arange(12, dtype=vt.float32).reshape(3, 4), "i": vt.arange(3),
                      "m": vt.ones(2, dtype=vt.bool), "h": vt.ones(5, dtype=vt.bfloat16)}, metadata={"k": "v"}),
             st.save({"only": vt.zeros(1, dtype=vt.float64)})]
    loaded = 0
    for trial in range(3000):
        blob = bytearray(rng.choice(bases))
        kind = rng.randrange(5)
        if kind == 4:  # the data only: the file stays valid and must load exactly these bytes
            start = 8 + struct.unpack("<Q", blob[:8])[0]
            blob[rng.randrange(start, len(blob))] = rng.randrange(256)
        elif kind == 0:
            for _ in range(rng.randint(1, 4)):
                blob[rng.randrange(len(blob))] = rng.randrange(256)
        elif kind == 1:
            del blob[rng.randrange(len(blob)):]
        elif kind == 2:
            blob += bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        else:
            n = struct.unpack("<Q", blob[:8])[0]
            text = blob[8:8 + n].decode()
            digits = [i for i, c in enumerate(text) if c.isdigit()]
            i = rng.choice(digits)
            text = text[:i] + str(rng.randrange(100)) + text[i + 1:]
            blob = bytearray(struct.pack("<Q", len(text)) + text.encode() + bytes(blob[8 + n:]))
        try:
            got = st.load(bytes(blob))
        except st.SafetensorError:
            continue
        loaded += 1
        expected = _expected_from_bytes(bytes(blob))
        assert set(got) == set(expected), trial
        for name, (dt, array) in expected.items():
            t = got[name]
            assert tuple(t.shape) == array.shape, (trial, name)
            if dt == "BF16":
                values = (array.astype(np.uint32) << 16).view(np.float32)
                np.testing.assert_array_equal(np.asarray(to_torch(t.float())), values, err_msg=f"{trial} {name}")
            else:
                np.testing.assert_array_equal(np.asarray(to_torch(t)), array, err_msg=f"{trial} {name}")
    assert loaded > 100  # data-byte flips keep files valid: the fuzz exercised successful loads too


def test_checkpoints_round_trip_structures_and_refuse_other_files(tmp_path):
    """save_checkpoint / load_checkpoint (Note [safetensors checkpoints]): nested dicts with int keys, tuples,
    lists, plain values and tensors come back as they went; a plain safetensors file and bad values are refused."""
    import vibetensor as vt
    from vibetensor import safetensors as st

    model = vt.nn.Linear(3, 2)
    opt = vt.optim.Adam(model.parameters(), lr=0.1, betas=(0.8, 0.9))
    model(vt.randn(4, 3)).sum().backward()
    opt.step()
    obj = {"model": model.state_dict(), "optimizer": opt.state_dict(), "step": 7, "note": "x", "nested": [1.5, None, (2, True)]}
    path = str(tmp_path / "c.safetensors")
    st.save_checkpoint(obj, path)
    back = st.load_checkpoint(path)
    assert back["step"] == 7 and back["note"] == "x" and back["nested"] == [1.5, None, (2, True)]
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.8, 0.9)
    assert sorted(back["optimizer"]["state"]) == [0, 1]  # int keys stay ints
    for k, v in obj["model"].items():
        assert back["model"][k].tolist() == v.tolist()
    assert back["optimizer"]["state"][0]["exp_avg"].tolist() == obj["optimizer"]["state"][0]["exp_avg"].tolist()
    opt2 = vt.optim.Adam(vt.nn.Linear(3, 2).parameters(), lr=0.1)
    opt2.load_state_dict(back["optimizer"])  # what a resumed run does
    st.save_file({"w": vt.ones(2)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(st.SafetensorError, match="not a checkpoint"):
        st.load_checkpoint(str(tmp_path / "plain.safetensors"))
    with pytest.raises(TypeError, match="object at nested/0 is neither a tensor nor a plain value"):
        st.save_checkpoint({"nested": [object()]}, path)
