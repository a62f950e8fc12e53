import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { checkUnleashingMaskConfig, type UnleashingMaskConfig } from "@lib/methods/unleashing_mask/config.ts";
import {
  releasedView,
  runUnleashingMaskReleased,
  sharedSpecs,
  whenTrained,
} from "@lib/methods/unleashing_mask/released.ts";
import { umDeviations } from "@lib/methods/unleashing_mask/notes.ts";
import type { UmExperiment } from "@lib/methods/unleashing_mask/run.ts";
import { loadPaperNumbers } from "@lib/report/paper_numbers.ts";
import { bundleOf } from "@lib/report/jupyter.ts";
import { tempDataRoot } from "../../datasets/_fixtures.ts";
import { SMALL } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

/** The narrow main.py-style checkpoint of tests/checkpoints/released (depth 10, growth 4, 10 classes). */
const FIXTURE = fileURLToPath(
  new URL("../../checkpoints/released/testdata/um_densenet_c10.state", import.meta.url),
);

const RELEASED: UnleashingMaskConfig = {
  ...SMALL,
  variants: ["faithful", "clean"],
  weights: "released",
  released: {
    files: ["densenet_cifar10_last"],
    // Three of the paper's OOD sets, in the miniature data root's real formats.
    oodDatasets: ["svhn", "textures", "lsun_crop"],
    evalLimit: null,
    trainLimit: null,
    heldOut: 0,
    network: { depth: 10, growthRate: 4 },
  },
  scores: ["msp", "odin", "energy"],
  inputScoreLimit: 3,
  evalBatchSize: 8,
};

/** Runs `f` with OOD_DATA_DIR and OOD_RELEASED_DIR set, restoring them after. */
async function withDirs<T>(data: string, released: string, f: () => Promise<T>): Promise<T> {
  const old = ["OOD_DATA_DIR", "OOD_RELEASED_DIR"].map((k) => [k, Deno.env.get(k)] as const);
  Deno.env.set("OOD_DATA_DIR", data);
  Deno.env.set("OOD_RELEASED_DIR", released);
  try {
    return await f();
  } finally {
    for (const [k, v] of old) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
  }
}

Deno.test("checkUnleashingMaskConfig() checks the released options", () => {
  checkUnleashingMaskConfig(RELEASED);
  checkUnleashingMaskConfig({ ...SMALL, weights: "train" });
  assert.throws(() => checkUnleashingMaskConfig({ ...SMALL, weights: "released" }), /released is not set/);
  const bad = (released: Partial<NonNullable<UnleashingMaskConfig["released"]>>) =>
    checkUnleashingMaskConfig({ ...RELEASED, released: { ...RELEASED.released!, ...released } });
  assert.throws(
    () => bad({ files: ["densenet_cifar10"] }),
    /unknown released file "densenet_cifar10". Valid: densenet_cifar10_best/,
  );
  assert.throws(() => bad({ files: ["densenet_cifar10_last", "densenet_cifar100_best"] }), /mix ID datasets/);
  assert.throws(() => bad({ oodDatasets: ["cifar10"] }), /contains the ID dataset "cifar10"/);
  assert.throws(() => bad({ evalLimit: 0 }), /released.evalLimit must be a positive integer/);
  assert.throws(
    () => checkUnleashingMaskConfig({ ...RELEASED, weights: "pretrained" as "train" }),
    /unknown weights "pretrained". Valid: train, released/,
  );
});

Deno.test("runUnleashingMaskReleased() skips in train mode", async () => {
  const run = await runUnleashingMaskReleased({ ...RELEASED, weights: "train" });
  assert.equal(run.status, "skipped");
  assert.match(run.message, /OOD_WEIGHTS=released/);
});

Deno.test("runUnleashingMaskReleased() loads the released file and scores it on the paper's sets, without training", async () => {
  const data = tempDataRoot(), weights = await Deno.makeTempDir({ prefix: "um-released-" });
  await Deno.mkdir(join(weights, "unleashing_mask"));
  await Deno.copyFile(FIXTURE, join(weights, "unleashing_mask", "densenet_cifar10_last.state"));
  try {
    const before = tf.memory().numTensors;
    const run = await withDirs(data, weights, () => runUnleashingMaskReleased(RELEASED));
    assert.equal(tf.memory().numTensors, before, "no tensor kept");
    assert.equal(run.status, "done");
    if (run.status !== "done") return;
    assert.equal(run.idDataset, "cifar10");
    assert.deepEqual(run.models.map((m) => [m.id, m.stage]), [["densenet_cifar10_last", "last"]]);
    assert.ok(run.models[0]!.ignoredKeys > 0, "num_batches_tracked ignored");
    // 2 variants × 3 scores × 3 OOD sets, one FPR rule.
    assert.equal(run.rows.length, 18);
    assert.deepEqual([...new Set(run.rows.map((r) => r.label))], [
      "CE released last (faithful)",
      "CE released last (clean)",
    ]);
    assert.deepEqual([...new Set(run.rows.map((r) => r.oodDataset))].sort(), ["lsun_crop", "svhn", "textures"]);
    for (const r of run.rows) {
      assert.equal(r.method, "ce");
      assert.equal(r.backbone, "densenet_bc_100");
      assert.ok(r.auroc !== null && r.auroc >= 0 && r.auroc <= 1, `${r.score} AUROC ${r.auroc}`);
      assert.ok(r.idAccuracy !== null && r.idAccuracy >= 0 && r.idAccuracy <= 1);
    }
    const view = bundleOf(releasedView(run, await loadPaperNumbers("unleashing_mask")));
    const text = String(view["text/plain"]);
    assert.match(text, /authors: README Sample Results/);
    assert.match(text, /Energy \(pretrained DenseNet-101\)/);
    assert.match(text, /42\.69/, "the README's Energy FPR95");
    assert.match(text, /ours: released file/);
    assert.match(text, /Energy per OOD set/);
  } finally {
    await Deno.remove(data, { recursive: true });
    await Deno.remove(weights, { recursive: true });
  }
});

Deno.test("runUnleashingMaskReleased() without the file or the data says what to fetch and evaluates nothing", async () => {
  const data = tempDataRoot(), weights = await Deno.makeTempDir({ prefix: "um-released-" });
  const empty = await Deno.makeTempDir({ prefix: "um-nodata-" });
  try {
    let loads = 0;
    const run = await withDirs(data, weights, () =>
      runUnleashingMaskReleased(RELEASED, {
        load: () => {
          loads++;
          return Promise.reject(new Error("not reached"));
        },
      }).catch(() => null));
    assert.equal(run, null, "a non-dataset error of the loader is not swallowed");
    assert.equal(loads, 1);
    const missing = await withDirs(data, weights, () => runUnleashingMaskReleased(RELEASED));
    assert.equal(missing.status, "missing");
    if (missing.status !== "missing") return;
    assert.deepEqual(missing.missingFiles, ["densenet_cifar10_last"]);
    assert.deepEqual(missing.missingDatasets, []);
    assert.match(missing.message, /^Released-weights run not evaluated\. To run it, fetch:\n/);
    assert.match(missing.message, /deno task data checkpoints unleashing_mask densenet_cifar10_last/);
    console.log(missing.message);
    const noData = await withDirs(empty, weights, () => runUnleashingMaskReleased(RELEASED));
    assert.equal(noData.status, "missing");
    if (noData.status !== "missing") return;
    assert.deepEqual(noData.missingDatasets, ["cifar10"]);
    assert.match(noData.message, /Fetch it with: deno task data cifar10/);
    const view = bundleOf(releasedView(noData, null));
    assert.match(String(view["text/html"]), /<pre>Released-weights run not evaluated/);
  } finally {
    for (const d of [data, weights, empty]) await Deno.remove(d, { recursive: true });
  }
});

Deno.test("umDeviations() of a released run lists the scoring quirks and the released-weights deviations", () => {
  const ids = umDeviations(RELEASED, { featureList: true, profile: "smoke" }).map((d) => d.id);
  assert.ok(ids.includes("released-weights") && ids.includes("released-no-finetune"));
  assert.ok(ids.includes("msp-double-softmax") && !ids.includes("pretraining") && !ids.includes("aux-outliers"));
  assert.ok(!ids.includes("released-subsets"), "evalLimit and trainLimit null: every image");
  const train = umDeviations({ ...RELEASED, weights: "train" }, { featureList: true, profile: "smoke" });
  assert.ok(train.some((d) => d.id === "pretraining") && !train.some((d) => d.id === "released-weights"));
});

Deno.test("whenTrained() shows the training display, or a note when the run trained nothing", () => {
  assert.equal(whenTrained({ rows: [] } as unknown as UmExperiment, () => 42), 42);
  const note = bundleOf(whenTrained(null, () => 42) as Parameters<typeof bundleOf>[0]);
  assert.match(String(note["text/plain"]), /weights: released — no training run/);
});

Deno.test("sharedSpecs() scores both variants in one pass, each distinct detector once", () => {
  const { specs, byVariant } = sharedSpecs({ ...RELEASED, scores: ["msp", "odin", "energy", "mahalanobis"] }, [
    "faithful",
    "clean",
  ]);
  // umMsp, odin, energy, Mahalanobis (faithful); msp, Mahalanobis (clean): ODIN and Energy are shared.
  assert.deepEqual(specs.map((s) => s.use), ["umMsp", "odin", "energy", "umMahalanobis", "msp", "umMahalanobis"]);
  assert.deepEqual([...byVariant.get("faithful")!], [["msp", "s0"], ["odin", "s1"], ["energy", "s2"], [
    "mahalanobis",
    "s3",
  ]]);
  assert.deepEqual([...byVariant.get("clean")!], [["msp", "s4"], ["odin", "s1"], ["energy", "s2"], [
    "mahalanobis",
    "s5",
  ]]);
});
