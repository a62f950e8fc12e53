"""Writes the PyTorch checkpoint fixtures of tests/io/torch/ and expected.json.

Run with Debian's torch (1.13, CPU):  /usr/bin/python3 tests/io/torch/testdata/make_fixtures.py

Benign files are saved the way the papers' code saves them (torch.save of a state_dict, of a dict with epoch,
optimizer state and argparse args, of a DataParallel model's state_dict, a PyTorch Lightning 1.1 .ckpt, the
legacy non-zip format). Malicious files run code when Python's pickle loads them; this script proves that for
each, in a temporary folder, by loading it and checking that the canary file appeared (then removes it). Their
commands write to "$OOD_CANARY_DIR/<name>", so a test can point the canary at its own temporary folder.

Everything is seeded and small; running the script twice writes the same bytes.
"""

import argparse
import collections
import io
import json
import os
import pathlib
import pickle
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import types
import zipfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = {"tensors": {}}


def path(name):
    return os.path.join(HERE, name)


# ---------------------------------------------------------------- expected values


def describe_tensors(value, prefix=()):
    """Every tensor below value as {path, dtype, shape, data}; paths step through dicts, lists and objects."""
    out = []
    if isinstance(value, torch.Tensor):
        t = value.detach()
        data = t.float() if t.dtype == torch.float16 else t
        flat = data.reshape(-1).tolist()
        if t.dtype == torch.int64:
            flat = [str(x) for x in flat]  # JSON numbers would lose int64 precision
        elif t.dtype == torch.bool:
            flat = [1 if x else 0 for x in flat]
        out.append({"path": list(prefix), "dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                    "data": flat})
    elif isinstance(value, np.ndarray):
        out += describe_tensors(torch.from_numpy(value.astype(value.dtype.newbyteorder("="))), prefix)
    elif isinstance(value, dict):
        for k, v in value.items():
            key = k if isinstance(k, (str, int)) else f"{type(k).__module__}.{type(k).__qualname__}"
            if isinstance(k, type):
                key = f"{k.__module__}.{k.__qualname__}"
            out += describe_tensors(v, prefix + (key,))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            out += describe_tensors(v, prefix + (i,))
    elif isinstance(value, argparse.Namespace):
        out += describe_tensors(vars(value), prefix)
    return out


def expect(name, value):
    EXPECTED["tensors"][name] = describe_tensors(value)


# ---------------------------------------------------------------- small networks


class Net(torch.nn.Module):
    """A narrow conv → BN → linear net, the shape of the papers' backbones in miniature."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 3, 3, bias=False)
        self.bn = torch.nn.BatchNorm2d(3)
        self.fc = torch.nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(self.bn(self.conv(x)).mean((2, 3)))


def trained_net():
    torch.manual_seed(0)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    net.train()
    loss = net(torch.randn(4, 2, 5, 5)).square().mean()
    loss.backward()
    opt.step()
    return net, opt


def save(name, value, **kwargs):
    torch.save(value, path(name), **kwargs)
    expect(name, value)


# ---------------------------------------------------------------- benign fixtures


def benign():
    net, opt = trained_net()
    save("state_dict.pt", net.state_dict())

    args = argparse.Namespace(lr=0.1, epochs=100, name="resnet18", layers=[2, 2], cosine=True, decay=None,
                              device=torch.device("cuda", 0), data_dir=pathlib.PosixPath("/data/cifar"),
                              input_size=torch.Size([3, 32, 32]))
    save("checkpoint.pth.tar", {"epoch": 12, "state_dict": net.state_dict(), "optimizer": opt.state_dict(),
                                "args": args, "best_acc": 93.25})

    save("dataparallel.pth", torch.nn.DataParallel(net).state_dict())

    save("legacy.pth", {"state_dict": net.state_dict(), "epoch": 3, **views()},
         _use_new_zipfile_serialization=False)
    renumber_legacy_keys("legacy.pth")

    save("dtypes.pt", dtypes())
    save("views.pt", views())
    save("protocol4.pt", {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3), "name": "p4", "n": 2 ** 70},
         pickle_protocol=4)
    lightning(net)
    big_endian()
    plain_pickles()
    numpy_values(net)
    ancient_tar()
    packed_tar()


class _Anything(dict):
    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass


class _SkipUnpickler(pickle.Unpickler):
    """Walks over a pickle of our own making without building torch objects, noting its storages."""

    def __init__(self, f):
        super().__init__(f)
        self.storages = {}  # key -> (storage class name, numel), in order of first use

    def persistent_load(self, pid):
        self.storages.setdefault(pid[2], (pid[1].__name__, pid[4]))
        return None

    def find_class(self, module, name):
        return type(name, (_Anything,), {})


ELEMENT_SIZE = {"FloatStorage": 4, "HalfStorage": 2, "DoubleStorage": 8, "LongStorage": 8, "IntStorage": 4,
                "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1}


def renumber_legacy_keys(name):
    """Legacy files name storages by memory address and write them sorted by that name; renames them 0, 1, ... in
    order of first use and writes them in that order, so the bytes are reproducible.

    Keys only occur as BINUNICODE strings in the main pickle (each persistent id) and the key-list pickle, and
    protocol 2 has no frames or offsets, so replacing those strings keeps the main pickle valid; the key list and
    the storage section are rewritten.
    """
    raw = open(path(name), "rb").read()
    f = io.BytesIO(raw)
    for _ in range(3):
        pickle.load(f)
    walker = _SkipUnpickler(f)
    walker.load()
    head = raw[: f.tell()]
    keys = pickle.load(f)
    at, section = f.tell(), {}
    for key in keys:
        kind, numel = walker.storages[key]
        n = 8 + numel * ELEMENT_SIZE[kind]
        section[key], at = raw[at:at + n], at + n
    assert at == len(raw), name
    order = list(walker.storages)
    for i, key in enumerate(order):
        old = b"X" + struct.pack("<I", len(key)) + key.encode()
        new = f"{i}".encode()
        assert head.count(old) >= 1, (name, key)
        head = head.replace(old, b"X" + struct.pack("<I", len(new)) + new)
    key_list = pickle.dumps([f"{i}" for i in range(len(order))], protocol=2)
    with open(path(name), "wb") as out:
        out.write(head + key_list + b"".join(section[k] for k in order))
    torch.load(path(name))  # still a valid checkpoint


def dtypes():
    return {
        "f32": torch.tensor([1.5, -2.25, 3e-8], dtype=torch.float32),
        "f16": torch.tensor([[0.5, -1.0], [65504.0, 6e-8]], dtype=torch.float16),
        "f64": torch.tensor([1 / 3, -1e300], dtype=torch.float64),
        "i64": torch.tensor([-(2 ** 62) - 5, 7, 2 ** 53 + 1], dtype=torch.int64),
        "i32": torch.tensor([-7, 2 ** 31 - 1], dtype=torch.int32),
        "i16": torch.tensor([-300, 300], dtype=torch.int16),
        "i8": torch.tensor([-128, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
    }


def views():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    shared = torch.arange(10, dtype=torch.float32)
    return {
        "transposed": base.t(),                  # stride (1, 6)
        "sliced": base[1:3, 2:5],                # offset 8, stride (6, 1)
        "strided": base[::2, 1::3],              # stride (12, 3), offset 1
        "shared_a": shared[:4],                  # two tensors on one storage
        "shared_b": shared[5:].view(5, 1),       # offset 5
        "row": base[2],                          # offset 12
        "permuted": torch.arange(24, dtype=torch.float64).reshape(2, 3, 4).permute(2, 0, 1),
    }


def fake_module(name, **attrs):
    """Registers a stand-in module so pickle names the real library's globals without the library installed."""
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
    mod = sys.modules[name]
    for k, v in attrs.items():
        v.__module__ = name
        v.__qualname__ = k
        setattr(mod, k, v)
    return mod


def lightning(net):
    class AttributeDict(dict):
        def __getattr__(self, key):
            return self[key]

    class ModelCheckpoint:
        pass

    fake_module("pytorch_lightning.utilities.parsing", AttributeDict=AttributeDict)
    fake_module("pytorch_lightning.callbacks.model_checkpoint", ModelCheckpoint=ModelCheckpoint)
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(2, 3)).sum().backward()
    opt.step()
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[30, 60], gamma=0.1)
    ckpt = {
        "epoch": 4,
        "global_step": 500,
        "pytorch-lightning_version": "1.1.8",
        "callbacks": {ModelCheckpoint: {"monitor": "val_loss", "best_model_score": torch.tensor(0.125),
                                        "best_model_path": "/runs/epoch=4.ckpt"}},
        "optimizer_states": [opt.state_dict()],
        "lr_schedulers": [sched.state_dict()],
        "state_dict": collections.OrderedDict((f"model.{k}", v) for k, v in model.state_dict().items()),
        "hparams_name": "kwargs",
        "hyper_parameters": AttributeDict(lr=0.001, backbone="wrn", depths=(28, 10)),
    }
    save("lightning.ckpt", ckpt)


def stored_zip(name, entries):
    """A zip of stored entries with fixed timestamps, as torch writes them."""
    with zipfile.ZipFile(path(name), "w", zipfile.ZIP_STORED) as z:
        for entry, data in entries:
            z.writestr(zipfile.ZipInfo(entry, date_time=(1980, 1, 1, 0, 0, 0)), data)


def zip_entries(name):
    with zipfile.ZipFile(path(name)) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def big_endian():
    """dtypes.pt rewritten as a big-endian machine would (torch >= 2.1 marks it in <root>/byteorder)."""
    value = dtypes()
    torch.save(value, path("bigendian.pt"))
    sizes = {"float32": 4, "float16": 2, "float64": 8, "int64": 8, "int32": 4, "int16": 2}
    # Element sizes by storage key: torch numbers storages in the order it meets them (the dict's order).
    elem = [sizes.get(str(t.dtype).replace("torch.", ""), 1) for t in value.values()]
    entries = []
    for entry, data in zip_entries("bigendian.pt"):
        root, _, rest = entry.partition("/")
        if rest.startswith("data/"):
            n = elem[int(rest[5:])]
            data = b"".join(data[i:i + n][::-1] for i in range(0, len(data), n))
        entries.append((entry, data))
    entries.append((f"{entries[0][0].split('/')[0]}/byteorder", b"big"))
    stored_zip("bigendian.pt", entries)
    expect("bigendian.pt", value)


def plain_pickles():
    args = argparse.Namespace(lr=0.5, tags=["a", "b"])
    data = {"ints": [0, -1, 255, 65535, -(2 ** 31), 2 ** 31, 2 ** 64 + 3, -(2 ** 70)], "float": -0.1,
            "text": "héllo\n\\ \u20ac", "bytes": b"\x00\xffab", "set": {1, 2}, "frozen": frozenset(["x"]),
            "tuple": (1, (2,), ()), "none": None, "flags": [True, False], "args": args,
            "od": collections.OrderedDict([("b", 1), ("a", 2)])}
    for proto in (0, 2, 5):
        with open(path(f"plain_p{proto}.pkl"), "wb") as f:
            pickle.dump(data, f, protocol=proto)
    EXPECTED["plain_ints"] = [str(i) for i in data["ints"]]  # as text: JSON numbers would round them


def numpy_values(net):
    """NumPy metrics and arrays saved beside the weights, as training scripts using sklearn/NumPy do."""
    shared = np.arange(4, dtype=np.int64) * (2 ** 40)
    save("numpy_values.pth", {
        "state_dict": net.state_dict(),
        "best_acc": np.float64(93.5), "auroc": np.float32(0.75), "count": np.int64(2 ** 60),
        "small": np.int32(-5), "flag": np.bool_(True), "u64": np.uint64(2 ** 64 - 1), "u16": np.uint16(65535),
        "means": np.array([[0.5, -1.0, 2.0], [3.0, 4.5, -6.0]], dtype=np.float32),
        "fortran": np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)),
        "big_endian": np.array([1.5, -2.0], dtype=">f8"),
        "half": np.array([0.5, 65504], dtype=np.float16),
        "shared_a": shared, "shared_b": shared,  # one array, memoized: both keys get the same tensor
    })
    with open(path("numpy_object.pkl"), "wb") as f:
        pickle.dump({"labels": np.array(["cat", 3], dtype=object)}, f, protocol=2)


def packed_tar():
    """A checkpoint shared inside a tar archive (a `.tar` download), which must be extracted first."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        data = open(path("state_dict.pt"), "rb").read()
        info = tarfile.TarInfo("finetuning/model.pth")
        info.size, info.mtime = len(data), 0
        tar.addfile(info, io.BytesIO(data))
    with open(path("packed.tar"), "wb") as f:
        f.write(buf.getvalue())


def ancient_tar():
    """The tar layout of torch < 0.1.10 (members sys_info, pickle, tensors, storages), with empty payloads."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for member in ("sys_info", "pickle", "tensors", "storages"):
            info = tarfile.TarInfo(member)
            payload = pickle.dumps([], protocol=2)
            info.size, info.mtime = len(payload), 0
            tar.addfile(info, io.BytesIO(payload))
    with open(path("ancient.tar"), "wb") as f:
        f.write(buf.getvalue())


# ---------------------------------------------------------------- malicious fixtures

CANARY_ENV = "OOD_CANARY_DIR"


def shell_touch(name):
    return f'touch "${CANARY_ENV}/{name}"'


class EvilSystem:
    """Pickles as os.system(...) (named posix.system on Linux, via STACK_GLOBAL at protocol 4)."""

    def __reduce__(self):
        return (os.system, (shell_touch("stack_global_system"),))


class EvilEval:
    def __reduce__(self):
        return (eval, (f"open(__import__('os').environ['{CANARY_ENV}'] + '/eval', 'w').close()",))


class EvilPopen:
    def __reduce__(self):
        return (subprocess.Popen, (["sh", "-c", shell_touch("popen")],))


def os_system_pickle():
    """Hand-written protocol 2 pickle: GLOBAL 'os system', REDUCE — the textbook exploit."""
    cmd = shell_touch("os_system").encode()
    return b"\x80\x02cos\nsystem\nq\x00X" + struct.pack("<I", len(cmd)) + cmd + b"\x85q\x01Rq\x02."


def zip_checkpoint(name, pickle_bytes, storages=(), extra=()):
    entries = [("archive/data.pkl", pickle_bytes)]
    entries += [(f"archive/data/{k}", v) for k, v in storages]
    entries += list(extra) + [("archive/version", b"3\n")]
    stored_zip(name, entries)


class StorageRef:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class FakeTensor:
    """Pickles as _rebuild_tensor_v2 on a storage reference we choose (to forge out-of-range views)."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride)

    def __reduce__(self):
        s, o, size, stride = self.args
        return (torch._utils._rebuild_tensor_v2, (s, o, size, stride, False, collections.OrderedDict()))


def forged_pickle(value):
    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol=2)
    p.persistent_id = lambda o: ("storage", torch.FloatStorage, o.key, "cpu", o.numel) \
        if isinstance(o, StorageRef) else None
    p.dump(value)
    return buf.getvalue()


def malicious():
    with open(path("evil_os_system.pkl"), "wb") as f:
        f.write(os_system_pickle())
    with open(path("evil_stack_global.pkl"), "wb") as f:
        f.write(pickle.dumps({"x": EvilSystem()}, protocol=4))
    torch.save({"state_dict": {"w": torch.ones(2)}, "args": EvilEval()}, path("evil_eval.pt"))
    # Protocol 3: at protocol 2, Python writes subprocess.Popen under its Python 2 name, commands.Popen.
    torch.save({"w": torch.ones(2), "hook": EvilPopen()}, path("evil_popen.pth"),
               _use_new_zipfile_serialization=False, pickle_protocol=3)
    renumber_legacy_keys("evil_popen.pth")
    four = struct.pack("<4f", 1, 2, 3, 4)
    zip_checkpoint("storage_outside.pt", forged_pickle({"w": FakeTensor(StorageRef("../../x", 4), 0, (4,), (1,))}),
                   [("0", four)])
    zip_checkpoint("storage_missing.pt", forged_pickle({"w": FakeTensor(StorageRef("7", 4), 0, (4,), (1,))}),
                   [("0", four)])
    zip_checkpoint("out_of_bounds.pt", forged_pickle({"w": FakeTensor(StorageRef("0", 4), 2, (2, 2), (2, 1))}),
                   [("0", four)])
    zip_checkpoint("zip_slip.pt", forged_pickle({"w": FakeTensor(StorageRef("0", 4), 0, (4,), (1,))}),
                   [("0", four)], [("archive/../../evil.txt", b"owned")])
    whole = open(path("state_dict.pt"), "rb").read()
    with open(path("truncated.pt"), "wb") as f:
        f.write(whole[: len(whole) // 2])
    legacy = open(path("legacy.pth"), "rb").read()
    with open(path("truncated_legacy.pth"), "wb") as f:
        f.write(legacy[: len(legacy) - 40])
    corrupt = bytearray(whole)
    at = whole.index(b"data.pkl") + 60  # inside the pickle's stored bytes: the CRC no longer matches
    corrupt[at:at + 8] = b"\xde\xad\xbe\xef" * 2
    with open(path("corrupt.pt"), "wb") as f:
        f.write(bytes(corrupt))
    with open(path("corrupt_legacy.pth"), "wb") as f:
        at = legacy.index(b"state_dict")
        f.write(legacy[:at - 5] + b"\xff" * 5 + legacy[at:])
    prove_malicious()


def prove_malicious():
    """Loads each malicious file with Python's own pickle and checks the canary appears: the files are real."""
    cases = [
        ("os_system", lambda: pickle.load(open(path("evil_os_system.pkl"), "rb"))),
        ("stack_global_system", lambda: pickle.load(open(path("evil_stack_global.pkl"), "rb"))),
        ("eval", lambda: torch.load(path("evil_eval.pt"))),
        ("popen", lambda: torch.load(path("evil_popen.pth"))),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ[CANARY_ENV] = tmp
        for canary, load in cases:
            value = load()
            target = os.path.join(tmp, canary)
            for _ in range(100):  # Popen runs in the background
                if os.path.exists(target):
                    break
                time.sleep(0.02)
            if not os.path.exists(target):
                raise SystemExit(f"fixture for {canary} did not run its payload under pickle")
            os.remove(target)
            if isinstance(value, dict) and isinstance(value.get("hook"), subprocess.Popen):
                value["hook"].wait()
        del os.environ[CANARY_ENV]
    print("malicious fixtures verified: each runs its payload under Python's pickle")


if __name__ == "__main__":
    benign()
    malicious()
    with open(path("expected.json"), "w") as f:
        json.dump(EXPECTED, f, indent=1, sort_keys=True)
        f.write("\n")
    total = sum(os.path.getsize(path(n)) for n in os.listdir(HERE))
    print(f"wrote {len(os.listdir(HERE))} files, {total} bytes")
