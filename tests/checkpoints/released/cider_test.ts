/**
 * CIDER's released networks load from checkpoints made the authors' way (testdata/make_cider_fixtures.py: narrow
 * `SupCEHeadResNet`s saved as train_cider.py saves them) through `readTorchCheckpoint` → `findStateDict` →
 * `loadStateDict` and compute PyTorch's outputs; a file of the other network is refused, naming the keys.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { createBackbone } from "@lib/backbones/mod.ts";
import { readTorchCheckpoint } from "@lib/io/torch/mod.ts";
import { type PickleValue, TorchCheckpointError } from "@lib/io/torch/types.ts";
import { findStateDict, loadStateDict } from "@lib/checkpoints/load_state_dict.ts";
import {
  CIDER_RELEASED,
  CIDER_RELEASED_NETWORKS,
  CIDER_RESNET_BLOCKS,
  ciderStateDictMap,
} from "@lib/checkpoints/released/cider.ts";
import { releasedFilePath } from "@lib/checkpoints/released/paths.ts";
import { ciderNet } from "@lib/methods/cider/network.ts";

await initBackend({ backend: "cpu", log: null });

interface Output {
  shape: number[];
  values: number[];
}
interface Case {
  backbone: keyof typeof CIDER_RESNET_BLOCKS;
  blocks: number[];
  numClasses: number;
  readmeFolder: string;
  inputShape: [number, number, number, number];
  input: number[];
  logits: Output;
  features: Output;
  normalized: Output;
  embedding: Output;
}

const testdata = (f: string) => fileURLToPath(new URL(`./testdata/${f}`, import.meta.url));
const INDEX = JSON.parse(await Deno.readTextFile(testdata("cider_outputs.json"))) as {
  width: number;
  featDim: number;
  cases: Record<string, Case>;
};

/** The equivalence test's tolerance: 2e-4 of the largest |PyTorch| value (at least 1e-3). */
function assertClose(actual: ArrayLike<number>, expected: Output, what: string): number {
  assert.equal(actual.length, expected.values.length, `${what}: length`);
  const scale = expected.values.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-3);
  let diff = 0;
  for (let i = 0; i < actual.length; i++) diff = Math.max(diff, Math.abs(actual[i]! - expected.values[i]!));
  assert.ok(diff <= 2e-4 * scale, `${what}: max |TF.js − PyTorch| = ${diff}, max |PyTorch| = ${scale}`);
  return diff;
}

/** The narrow TF.js network of a fixture: the registry backbone plus CIDER's projection head. */
function narrowNet(c: Case) {
  const [, h, w, ch] = c.inputShape;
  const backbone = createBackbone(c.backbone, { numClasses: c.numClasses, inputShape: [h, w, ch], width: INDEX.width });
  return ciderNet(backbone, { out: INDEX.featDim });
}

for (const [file, c] of Object.entries(INDEX.cases)) {
  Deno.test(`ciderStateDictMap(${c.backbone}) loads ${file} (saved as train_cider.py saves) and matches PyTorch`, async () => {
    const path = testdata(file);
    const root = await readTorchCheckpoint(path);
    assert.ok(root instanceof Map, "a dict");
    assert.deepEqual([...root.keys()], ["epoch", "state_dict", "opt_state_dict", "dis_state_dict", "uni_state_dict"]);
    assert.equal(root.get("epoch"), 500);
    const before = tf.memory().numTensors;
    const net = narrowNet(c);
    try {
      const ignored = loadStateDict([net.model], findStateDict(root, path), ciderStateDictMap(c.blocks), path);
      assert.ok(ignored.length > 0 && ignored.every((k) => k.endsWith("num_batches_tracked")), "only BN counters");
      const x = tf.tensor4d(c.input, c.inputShape);
      const logits = net.backbone.logits(x), h = net.backbone.features(x);
      const hn = tf.tidy(() => tf.div(h, tf.maximum(tf.norm(h, "euclidean", 1, true), 1e-12)));
      const z = net.embed(x);
      const diffs = [
        assertClose(await logits.data(), c.logits, "fc logits"),
        assertClose(await h.data(), c.features, "penultimate h"),
        assertClose(await hn.data(), c.normalized, "normalised h (KNN's features)"),
        assertClose(await z.data(), c.embedding, "head embedding z"),
      ];
      console.log(`${file}: max |TF.js − PyTorch| = ${Math.max(...diffs).toExponential(2)}`);
      tf.dispose([x, logits, h, hn, z]);
    } finally {
      net.model.dispose();
    }
    assert.equal(tf.memory().numTensors, before, "no tensor leaked");
  });
}

Deno.test("ciderStateDictMap(head: false) fits the backbone alone and ignores the projection head", async () => {
  const [file, c] = Object.entries(INDEX.cases).find(([, c]) => c.backbone === "resnet18")!;
  const path = testdata(file);
  const before = tf.memory().numTensors;
  const [, h, w, ch] = c.inputShape;
  const backbone = createBackbone("resnet18", { numClasses: 10, inputShape: [h, w, ch], width: INDEX.width });
  try {
    const ignored = loadStateDict(
      [backbone.model],
      findStateDict(await readTorchCheckpoint(path), path),
      ciderStateDictMap(c.blocks, { head: false }),
      path,
    );
    assert.deepEqual(ignored.filter((k) => k.startsWith("head.")).sort(), [
      "head.0.bias",
      "head.0.weight",
      "head.2.bias",
      "head.2.weight",
    ]);
    const x = tf.tensor4d(c.input, c.inputShape);
    const f = backbone.features(x);
    assertClose(await f.data(), c.features, "penultimate h");
    tf.dispose([x, f]);
  } finally {
    backbone.model.dispose();
  }
  assert.equal(tf.memory().numTensors, before, "no tensor leaked");
});

Deno.test("loadStateDict() refuses a CIDER checkpoint of the other ResNet, naming missing and unexpected keys", async () => {
  const byBackbone = Object.fromEntries(Object.entries(INDEX.cases).map(([f, c]) => [c.backbone, { f, c }]));
  const r18 = byBackbone.resnet18!, r34 = byBackbone.resnet34!;
  const before = tf.memory().numTensors;
  // ResNet-18's file into ResNet-34: blocks 3… of each stage are missing.
  const net34 = narrowNet(r34.c);
  const path18 = testdata(r18.f);
  const sd18 = findStateDict(await readTorchCheckpoint(path18), path18);
  assert.throws(
    () => loadStateDict([net34.model], sd18, ciderStateDictMap(CIDER_RESNET_BLOCKS.resnet34), path18),
    (e: unknown) =>
      e instanceof TorchCheckpointError && e.message.includes(path18) && e.message.includes("ResNet-34") &&
      /missing keys: .*encoder\.layer1\.2\.conv1\.weight/.test(e.message) &&
      e.message.includes("unexpected keys: none"),
  );
  net34.model.dispose();
  // ResNet-34's file into ResNet-18: its extra blocks are unexpected (and 100 classes would not fit 10 either).
  const net18 = narrowNet(r18.c);
  const path34 = testdata(r34.f);
  const sd34 = findStateDict(await readTorchCheckpoint(path34), path34);
  assert.throws(
    () => loadStateDict([net18.model], sd34, ciderStateDictMap(CIDER_RESNET_BLOCKS.resnet18), path34),
    (e: unknown) =>
      e instanceof TorchCheckpointError &&
      /missing keys: none; unexpected keys: .*encoder\.layer1\.2\./.test(e.message),
  );
  // The dispersion loss's state (prototypes + a `model.` copy) is not the model's state dict.
  const dis = (await readTorchCheckpoint(path18) as Map<PickleValue, PickleValue>).get("dis_state_dict")!;
  assert.throws(
    () =>
      loadStateDict(
        [net18.model],
        findStateDict(dis, path18),
        ciderStateDictMap(CIDER_RESNET_BLOCKS.resnet18),
        path18,
      ),
    (e: unknown) =>
      e instanceof TorchCheckpointError && /unexpected keys: prototypes, model\.encoder\.conv1\.weight/.test(e.message),
  );
  net18.model.dispose();
  assert.equal(tf.memory().numTensors, before, "no tensor leaked");
});

Deno.test("CIDER_RELEASED lists the README's Google Drive folders as manual downloads under checkpoints/released/cider", () => {
  assert.deepEqual(CIDER_RELEASED.map((e) => e.id), [
    "cider_cifar10_resnet18",
    "cider_cifar100_resnet34",
    "cider_imagenet100_resnet34",
  ]);
  for (const e of CIDER_RELEASED) {
    assert.equal(e.paper, "cider");
    assert.match(e.url, /^https:\/\/drive\.google\.com\/drive\/folders\/[\w-]+\?usp=/);
    assert.equal(e.download, "manual", "Google Drive needs a browser");
    assert.equal(e.checksum, undefined, "the README publishes no checksum");
    assert.match(releasedFilePath(e, undefined, "/r"), new RegExp(`^/r/cider/${e.filename.replaceAll(".", "\\.")}$`));
  }
  for (const [id, n] of Object.entries(CIDER_RELEASED_NETWORKS)) {
    assert.equal(n.id, id);
    assert.ok(CIDER_RELEASED.some((e) => e.id === id));
    assert.equal(n.k, n.idDataset === "cifar10" ? 100 : 300, "K of scripts/eval_ckpt_cifar*.sh");
  }
  const map = ciderStateDictMap(CIDER_RESNET_BLOCKS.resnet18);
  // conv1, bn1; 8 blocks × 4 + 3 shortcuts × 2; fc, head.0, head.2
  assert.equal(map.modules.length, 2 + 8 * 4 + 3 * 2 + 3);
  assert.equal(ciderStateDictMap(CIDER_RESNET_BLOCKS.resnet34).modules.length, 2 + 16 * 4 + 3 * 2 + 3);
});
