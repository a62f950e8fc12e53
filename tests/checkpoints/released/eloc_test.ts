/**
 * ELOC's released weights: fixture checkpoints written the re-implementation's way (testdata/make_eloc_fixtures.py:
 * legacy format, CUDA storages, `{epoch, state_dict, best_prec1 (NumPy float64), opt}`) load through the safe reader
 * and the name maps into our backbones and give PyTorch's logits and ELOC scores.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { createBackbone } from "@lib/backbones/mod.ts";
import { weightedLayers } from "@lib/checkpoints/load_state_dict.ts";
import {
  ELOC_RELEASED,
  ELOC_RELEASED_FAMILIES,
  elocDenseNetMap,
  elocReleasedMap,
  elocWideResNetMap,
} from "@lib/checkpoints/released/eloc.ts";
import { releasedFilePath } from "@lib/checkpoints/released/paths.ts";
import { readTorchCheckpoint, TorchCheckpointError } from "@lib/io/torch/mod.ts";
import { NORMALIZATION } from "@lib/datasets/normalization.ts";
import { loadElocFold } from "@lib/methods/eloc/released.ts";
import { elocMemberProbabilities, elocMemberScore } from "@lib/methods/eloc/score.ts";

await initBackend({ backend: "native", log: null });

const DIR = new URL("./testdata/eloc/", import.meta.url).pathname;
const DENSE = { depth: 10, growthRate: 4 };
const WIDE = { depth: 16, widenFactor: 0.125 };
const fold = (k: number, tag: "dense" | "wide") => `${DIR}cifar10_fold_${k}_${tag}_checkpoint/model_best.pth.tar`;

interface Outputs {
  pixels: { shape: [number, number, number, number]; base64: string };
  temperature: number;
  epsilon: number;
  dense: { folds: { fold: number; classes: number[]; logits: number[]; score: number[] }[]; ensemble: number[] };
  wide: { logits: number[] };
}
const out: Outputs = JSON.parse(readFileSync(`${DIR}eloc_outputs.json`, "utf8"));

const PIXELS = Uint8Array.from(atob(out.pixels.base64), (c) => c.charCodeAt(0));

/** The fixture's images, normalised as cal.py does: (x/255 − mean)/std per channel, NHWC. */
function inputs(): tf.Tensor4D {
  const { mean, std } = NORMALIZATION.cifarOdin;
  return tf.tidy(() =>
    tf.div(
      tf.sub(tf.div(tf.tensor4d(Float32Array.from(PIXELS), out.pixels.shape), 255), tf.tensor1d([...mean])),
      tf.tensor1d([...std]),
    ) as tf.Tensor4D
  );
}

let maxDiff = 0;
let compared = 0;
function assertClose(actual: ArrayLike<number>, expected: readonly number[], what: string, rel = 2e-4): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-3);
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
  maxDiff = Math.max(maxDiff, diff);
  compared++;
  assert.ok(diff <= rel * scale, `${what}: max |TF.js − PyTorch| = ${diff}, max |PyTorch| = ${scale}`);
}

Deno.test("ELOC_RELEASED lists the README's four Dropbox archives, direct, five fold checkpoints each", () => {
  assert.deepEqual(ELOC_RELEASED.map((e) => e.id), ELOC_RELEASED_FAMILIES.map((f) => f.id));
  assert.deepEqual(ELOC_RELEASED.map((e) => e.url), [
    "https://www.dropbox.com/s/mo2xay9rpfk8emu/cifar10_dense.tar.gz?dl=1",
    "https://www.dropbox.com/s/oo8fyxlosqkiov6/cifar100_dense.tar.gz?dl=1",
    "https://www.dropbox.com/s/6set3ilyto2adol/cifar10_wide.tar.gz?dl=1",
    "https://www.dropbox.com/s/ig5uftywotlt9i5/cifar100_wide.tar.gz?dl=1",
  ]);
  for (const e of ELOC_RELEASED) {
    assert.equal(e.paper, "eloc");
    assert.equal(e.download, "direct");
    assert.equal(e.format, "tar.gz");
    assert.equal(e.checksum, undefined, "the README publishes no checksum");
    assert.equal(e.members?.length, 5);
    assert.match(e.source, /README\.md line 3[5-8].*inferred/);
  }
  assert.equal(ELOC_RELEASED[3]!.members![4], "cifar100_fold_5_wide_checkpoint/model_best.pth.tar");
  assert.match(
    releasedFilePath(ELOC_RELEASED[0]!, "cifar10_fold_2_dense_checkpoint/model_best.pth.tar", "/r"),
    /^\/r\/eloc\/cifar10_fold_2_dense_checkpoint\/model_best\.pth\.tar$/,
  );
});

Deno.test("elocReleasedMap() lists one module per weighted layer of DenseNet-BC-100 and WRN-28-10", () => {
  const dense = createBackbone("densenet_bc_100", { numClasses: 8 });
  // WRN-28-10 at a tenth of the width: the same layers (a shortcut where the width changes), 0.4 M parameters.
  const wide = createBackbone("wrn_28_10", { numClasses: 80, width: 0.1 });
  try {
    const d = elocReleasedMap(ELOC_RELEASED_FAMILIES[0]);
    const w = elocReleasedMap(ELOC_RELEASED_FAMILIES[3]);
    assert.equal(d.modules.length, weightedLayers([dense.model]).length);
    assert.equal(w.modules.length, weightedLayers([wide.model]).length);
    assert.equal(d.modules.length, 1 + 3 * 16 * 4 + 2 * 2 + 2);
    assert.equal(w.modules.filter((m) => m.name.endsWith("convShortcut")).length, 3);
    assert.deepEqual(d.modules.slice(0, 3).map((m) => m.name), ["conv1", "block1.layer.0.bn1", "block1.layer.0.conv1"]);
    assert.ok(d.modules.some((m) => m.name === "block3.layer.15.conv2") && d.modules.at(-1)!.name === "fc");
  } finally {
    dense.model.dispose();
    wide.model.dispose();
  }
  assert.throws(() => elocDenseNetMap({ depth: 12 }), /4 \+ 6·n/);
  assert.throws(() => elocWideResNetMap({ depth: 27, widenFactor: 10 }), /4 \+ 6·n/);
});

Deno.test("a fold checkpoint holds eloc_solver.py's dict: epoch, state_dict, best_prec1 (NumPy float64), opt", async () => {
  const root = await readTorchCheckpoint(fold(1, "dense")) as Map<string, unknown>;
  assert.deepEqual([...root.keys()], ["epoch", "state_dict", "best_prec1", "opt"]);
  assert.equal(root.get("epoch"), 61);
  const best = root.get("best_prec1");
  assert.ok(typeof best === "number" && best > 0.95 && best < 0.96, `best_prec1 = ${best}`);
});

Deno.test("the five DenseNet-BC fold checkpoints load into densenet_bc_100 and give PyTorch's logits", async () => {
  const x = inputs();
  try {
    for (const f of out.dense.folds) {
      const net = await loadElocFold(fold(f.fold, "dense"), "eloc_cifar10_dense", DENSE);
      try {
        const logits = tf.tidy(() => net.logits(x));
        assertClose(logits.dataSync(), f.logits, `fold ${f.fold} logits`);
        logits.dispose();
      } finally {
        net.model.dispose();
      }
    }
  } finally {
    x.dispose();
  }
});

Deno.test("the WRN fold checkpoint loads into wrn_28_10 (narrow) and gives PyTorch's logits", async () => {
  const x = inputs();
  const net = await loadElocFold(fold(1, "wide"), "eloc_cifar10_wide", WIDE);
  try {
    const logits = tf.tidy(() => net.logits(x));
    assertClose(logits.dataSync(), out.wide.logits, "WRN logits");
    logits.dispose();
  } finally {
    net.model.dispose();
    x.dispose();
  }
});

Deno.test("the loaded ensemble gives PyTorch's ELOC scores (CE perturbation, T = 1000, ε = 0.002, calData.py)", async () => {
  const x = inputs();
  const nets = [];
  try {
    const perMember: Float64Array[] = [];
    for (const f of out.dense.folds) {
      const net = await loadElocFold(fold(f.fold, "dense"), "eloc_cifar10_dense", DENSE);
      nets.push(net);
      const p = elocMemberProbabilities({ model: net, classes: f.classes }, x, 10, {
        temperature: out.temperature,
        epsilon: out.epsilon,
        perturbation: "ce",
        normalization: NORMALIZATION.cifarOdin,
      });
      const s = elocMemberScore(p.dataSync(), 10);
      p.dispose();
      // Scores near −log 8 that differ by ~1e-6 between images: compare absolutely.
      assertClose(s, f.score, `fold ${f.fold} member score`, 1e-5);
      perMember.push(s);
    }
    const ensemble = perMember.reduce((a, b) => a.map((v, i) => v + b[i]!));
    assertClose(ensemble, out.dense.ensemble, "ensemble score", 1e-5);
  } finally {
    for (const n of nets) n.model.dispose();
    x.dispose();
  }
});

Deno.test("a checkpoint of the other network is refused, naming missing and unexpected keys", async () => {
  await assert.rejects(
    () => loadElocFold(fold(1, "wide"), "eloc_cifar10_dense", DENSE),
    (e: unknown) => {
      assert.ok(e instanceof TorchCheckpointError);
      assert.match(e.message, /cifar10_fold_1_wide_checkpoint\/model_best\.pth\.tar/);
      assert.match(e.message, /missing keys: .*trans1\.bn1\.weight/);
      assert.match(e.message, /unexpected keys: .*block1\.layer\.0\.convShortcut\.weight/);
      return true;
    },
  );
  await assert.rejects(
    () => loadElocFold(fold(1, "dense"), "eloc_cifar10_wide", WIDE),
    /does not fit ELOC WRN.*missing keys: .*convShortcut.*unexpected keys: .*trans1/,
  );
});

Deno.test("loading, scoring and refusing leak no tensors", async () => {
  const before = tf.memory().numTensors;
  const net = await loadElocFold(fold(2, "dense"), "eloc_cifar10_dense", DENSE);
  const x = inputs();
  const p = elocMemberProbabilities({ model: net, classes: out.dense.folds[1]!.classes }, x, 10, { epsilon: 0.002 });
  p.dispose();
  x.dispose();
  net.model.dispose();
  await assert.rejects(() => loadElocFold(fold(1, "wide"), "eloc_cifar10_dense", DENSE), TorchCheckpointError);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("the comparisons above ran, and their worst |TF.js − PyTorch| is reported", () => {
  // Deno runs a file's tests in order, so this follows every comparison of the file.
  assert.ok(compared > 0, "no output was compared with PyTorch's");
  console.log(
    `ELOC released fixtures: max |TF.js − PyTorch| = ${maxDiff.toExponential(2)} over ${compared} comparisons`,
  );
});
