import assert from "node:assert/strict";
import { findStateDict } from "@lib/checkpoints/load_state_dict.ts";
import {
  isTorchTensor,
  type PickledGlobal,
  type PickledObject,
  type PickleValue,
  readTorchCheckpoint,
  type TorchTensor,
} from "@lib/io/torch/mod.ts";

const DIR = new URL("./testdata/", import.meta.url).pathname;

interface ExpectedTensor {
  path: (string | number)[];
  dtype: string;
  shape: number[];
  data: (number | string)[];
}
const EXPECTED: { tensors: Record<string, ExpectedTensor[]>; plain_ints: string[] } = JSON.parse(
  await Deno.readTextFile(`${DIR}expected.json`),
);

/** The value at `path` below `root`, stepping through dicts, lists and data objects' state. */
function at(root: PickleValue, path: readonly (string | number)[]): PickleValue | undefined {
  let v: PickleValue | undefined = root;
  for (const step of path) {
    if (v && typeof v === "object" && (v as PickledObject).kind === "object") v = (v as PickledObject).state;
    if (v instanceof Map) {
      const key: PickleValue | undefined = [...v.keys()].find((k) =>
        k === step || (k as PickledGlobal | null)?.kind === "global" && (k as PickledGlobal).name === step
      );
      v = key === undefined ? undefined : v.get(key);
    } else if (Array.isArray(v) && typeof step === "number") v = v[step];
    else return undefined;
  }
  return v;
}

/** Every tensor below `v`. */
function tensors(v: PickleValue, out: TorchTensor[] = []): TorchTensor[] {
  if (isTorchTensor(v)) out.push(v);
  else if (v instanceof Map) { for (const x of v.values()) tensors(x, out); }
  else if (Array.isArray(v)) { for (const x of v) tensors(x, out); }
  else if (v && typeof v === "object" && (v as PickledObject).kind === "object") {
    tensors((v as PickledObject).state, out);
  }
  return out;
}

function assertTensorsAsSaved(file: string, root: PickleValue): void {
  const expected = EXPECTED.tensors[file]!;
  assert.equal(tensors(root).length, expected.length, `${file}: number of tensors`);
  for (const e of expected) {
    const t = at(root, e.path);
    const where = `${file} ${e.path.join("/")}`;
    assert.ok(isTorchTensor(t), `${where} is a tensor`);
    assert.equal(t.dtype, e.dtype, `${where} dtype`);
    assert.deepEqual(t.shape, e.shape, `${where} shape`);
    const want = e.dtype === "int64" ? e.data.map((x) => BigInt(x)) : e.data;
    assert.deepEqual([...t.data], want, `${where} values`);
  }
}

for (const file of Object.keys(EXPECTED.tensors)) {
  Deno.test(`readTorchCheckpoint() reads ${file} with the exact values, shapes and dtypes torch saved`, async () => {
    assertTensorsAsSaved(file, await readTorchCheckpoint(DIR + file));
  });
}

Deno.test("readTorchCheckpoint() keeps a training checkpoint's epoch, optimizer state and argparse options", async () => {
  const root = await readTorchCheckpoint(`${DIR}checkpoint.pth.tar`);
  assert.equal(at(root, ["epoch"]), 12);
  assert.equal(at(root, ["best_acc"]), 93.25);
  const args = at(root, ["args"]) as PickledObject;
  assert.equal(args.kind, "object");
  assert.equal(args.className, "argparse.Namespace");
  const options: [string, PickleValue][] = [
    ["lr", 0.1],
    ["epochs", 100],
    ["name", "resnet18"],
    ["layers", [2, 2]],
    ["cosine", true],
    ["decay", null],
    ["device", "cuda:0"],
    ["data_dir", "/data/cifar"],
    ["input_size", [3, 32, 32]],
  ];
  assert.deepEqual(args.state, new Map(options));
  const group = at(root, ["optimizer", "param_groups", 0]) as Map<string, PickleValue>;
  assert.equal(group.get("lr"), 0.1);
  assert.equal(group.get("momentum"), 0.9);
  assert.deepEqual(group.get("params"), [0, 1, 2, 3, 4]);
  assert.equal(findStateDict(root, "checkpoint.pth.tar").size, 8, "the consumer finds the state_dict");
});

Deno.test("readTorchCheckpoint() reads a PyTorch Lightning 1.1 .ckpt: callbacks keyed by class, AttributeDict, Counter", async () => {
  const root = await readTorchCheckpoint(`${DIR}lightning.ckpt`);
  assert.equal(at(root, ["pytorch-lightning_version"]), "1.1.8");
  assert.equal(at(root, ["global_step"]), 500);
  const [callbackKey] = (at(root, ["callbacks"]) as Map<PickleValue, PickleValue>).keys();
  assert.deepEqual(callbackKey, {
    kind: "global",
    name: "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint",
  });
  assert.equal(at(root, ["callbacks", (callbackKey as PickledGlobal).name, "monitor"]), "val_loss");
  const hp = at(root, ["hyper_parameters"]);
  assert.ok(hp instanceof Map, "an AttributeDict is read as a Map");
  assert.deepEqual([...hp], [["lr", 0.001], ["backbone", "wrn"], ["depths", [28, 10]]]);
  assert.ok(Object.isFrozen(hp.get("depths")), "tuples are frozen");
  assert.deepEqual(at(root, ["lr_schedulers", 0, "milestones"]), new Map([[30, 1], [60, 1]]));
  assert.equal(at(root, ["optimizer_states", 0, "param_groups", 0, "lr"]), 0.001);
  assert.deepEqual([...findStateDict(root, "lightning.ckpt").keys()], ["model.0.weight", "model.0.bias"]);
});

Deno.test("readTorchCheckpoint() reads DataParallel keys, legacy files and zip files alike", async () => {
  const zip = await readTorchCheckpoint(`${DIR}state_dict.pt`) as Map<string, TorchTensor>;
  const dp = await readTorchCheckpoint(`${DIR}dataparallel.pth`) as Map<string, TorchTensor>;
  const legacy = await readTorchCheckpoint(`${DIR}legacy.pth`);
  assert.deepEqual([...dp.keys()], [...zip.keys()].map((k) => `module.${k}`));
  assert.deepEqual(at(legacy, ["state_dict"]), zip);
  assert.equal(at(legacy, ["epoch"]), 3);
  assert.deepEqual(zip.get("bn.num_batches_tracked"), {
    kind: "tensor",
    dtype: "int64",
    shape: [],
    data: new BigInt64Array([1n]),
  });
});

Deno.test("readTorchCheckpoint() copies views out: tensors sharing a storage get separate arrays", async () => {
  const root = await readTorchCheckpoint(`${DIR}views.pt`);
  const a = at(root, ["shared_a"]) as TorchTensor;
  const b = at(root, ["shared_b"]) as TorchTensor;
  assert.notEqual(a.data.buffer, b.data.buffer);
  assert.deepEqual([...a.data, ...b.data], [0, 1, 2, 3, 5, 6, 7, 8, 9]);
  assert.equal(a.data.length, 4, "a view holds its own elements only");
});

Deno.test("readTorchCheckpoint() reads the same detection for any extension, and a big-endian zip", async () => {
  const copy = await Deno.makeTempFile({ suffix: ".state" });
  try {
    await Deno.copyFile(`${DIR}dtypes.pt`, copy);
    assert.deepEqual(await readTorchCheckpoint(copy), await readTorchCheckpoint(`${DIR}dtypes.pt`));
    assert.deepEqual(await readTorchCheckpoint(`${DIR}bigendian.pt`), await readTorchCheckpoint(copy));
  } finally {
    await Deno.remove(copy);
  }
});

Deno.test("readTorchCheckpoint() reads plain pickles of protocols 0, 2 and 5 to the same data", async () => {
  const want = new Map<PickleValue, PickleValue>([
    ["ints", EXPECTED.plain_ints.map((s) => Number.isSafeInteger(Number(s)) ? Number(s) : BigInt(s))],
    ["float", -0.1],
    ["text", "héllo\n\\ \u20ac"],
    ["bytes", new Uint8Array([0, 255, 97, 98])],
    ["set", new Set([1, 2])],
    ["frozen", new Set(["x"])],
    ["tuple", [1, [2], []]],
    ["none", null],
    ["flags", [true, false]],
    ["args", {
      kind: "object",
      className: "argparse.Namespace",
      args: [],
      state: new Map<PickleValue, PickleValue>([["lr", 0.5], ["tags", ["a", "b"]]]),
    }],
    ["od", new Map([["b", 1], ["a", 2]])],
  ]);
  for (const p of [0, 2, 5]) {
    assert.deepEqual(await readTorchCheckpoint(`${DIR}plain_p${p}.pkl`), want, `protocol ${p}`);
  }
});

Deno.test("readTorchCheckpoint() reads ints past 2^53 as bigint at protocol 4", async () => {
  assert.equal(at(await readTorchCheckpoint(`${DIR}protocol4.pt`), ["n"]), 2n ** 70n);
});

Deno.test("readTorchCheckpoint() reads NumPy scalars as numbers and numeric arrays as tensors", async () => {
  const root = await readTorchCheckpoint(`${DIR}numpy_values.pth`);
  assert.equal(at(root, ["best_acc"]), 93.5);
  assert.equal(at(root, ["auroc"]), 0.75);
  assert.equal(at(root, ["count"]), 2n ** 60n);
  assert.equal(at(root, ["small"]), -5);
  assert.equal(at(root, ["flag"]), true);
  assert.equal(at(root, ["u64"]), 2n ** 64n - 1n);
  assert.equal(at(root, ["u16"]), 65535);
  assert.equal(at(root, ["shared_a"]), at(root, ["shared_b"]), "a memoized array is one tensor");
});
