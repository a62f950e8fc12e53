/**
 * The released-weights run of the ELOC notebook end to end: narrow fixture checkpoints (written the
 * re-implementation's way, tests/checkpoints/released/testdata/make_eloc_fixtures.py) in a temporary released folder
 * and miniature data in the real formats (a CIFAR-10 binary test batch, the ODIN TinyImageNet folder).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { bundleOf } from "@lib/report/jupyter.ts";
import { loadPaperNumbers } from "@lib/report/paper_numbers.ts";
import { checkElocConfig, type ElocConfig } from "@lib/methods/eloc/config.ts";
import { ELOC_TRAIN } from "@lib/methods/eloc/train.ts";
import { elocDeviations } from "@lib/methods/eloc/deviations.ts";
import { resultsName, runEloc } from "@lib/methods/eloc/run.ts";
import {
  entropyMarginFigure,
  epsilonSweepFigure,
  foldCurvesFigure,
  paperVsOursTable,
  releasedView,
  scoreHistograms,
} from "@lib/methods/eloc/display.ts";
import { copySync, tempDataRoot } from "../../datasets/_fixtures.ts";

await initBackend({ backend: "native", log: null });

const FIXTURES = new URL("../../checkpoints/released/testdata/eloc/", import.meta.url).pathname;

/** A released config over the fixtures: the narrow DenseNet, TinyImageNet (crop) and Uniform noise. */
function releasedConfig(root: string): ElocConfig {
  return checkElocConfig({
    settings: [{ idDataset: "fashion_mnist", backbone: "lenet", width: 0.1, epsilon: 0.002 }],
    methods: ["eloc"],
    variants: ["faithful"],
    seeds: [0],
    dataSeed: 0,
    oodDatasets: ["mnist"],
    validationOod: "pixel_permuted",
    trainLimit: 100,
    heldOut: 10,
    nTest: 40,
    nOod: 30,
    nValidation: 10,
    train: { ...ELOC_TRAIN, epochs: 1, milestones: [], augment: [] },
    temperature: 1000,
    perturbations: ["ce"],
    scoreAblations: { singleMember: false, noPerturbation: false },
    epsilonSweep: [],
    evalBatchSize: 16,
    runDir: null,
    weights: "released",
    released: {
      files: ["eloc_cifar10_dense"],
      oodDatasets: ["tin_crop", "uniform"],
      nTest: null,
      nOod: null,
      nValidation: 2,
      batchSize: 16,
      root,
      arch: { depth: 10, growthRate: 4 },
    },
  });
}

/** A temporary data root: the committed miniature root with a 12-image CIFAR-10 test batch. */
function dataRoot(): string {
  const dir = tempDataRoot();
  const records = 12, rec = 1 + 3072;
  const bytes = new Uint8Array(records * rec);
  let seed = 7;
  for (let i = 0; i < bytes.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    bytes[i] = i % rec === 0 ? (i / rec) % 10 : seed >>> 24;
  }
  Deno.writeFileSync(join(dir, "cifar10", "cifar-10-batches-bin", "test_batch.bin"), bytes);
  return dir;
}

/** A temporary released folder holding the five fixture fold checkpoints at the archive's paths. */
function releasedRoot(): string {
  const dir = Deno.makeTempDirSync({ prefix: "ood-released-" });
  Deno.mkdirSync(join(dir, "eloc"));
  for (const k of [1, 2, 3, 4, 5]) {
    const sub = `cifar10_fold_${k}_dense_checkpoint`;
    Deno.mkdirSync(join(dir, "eloc", sub));
    copySync(join(FIXTURES, sub), join(dir, "eloc", sub));
  }
  return dir;
}

/** Runs `f` with OOD_DATA_DIR set to `dir`, restoring it afterwards. */
async function withDataDir<T>(dir: string, f: () => Promise<T>): Promise<T> {
  const old = Deno.env.get("OOD_DATA_DIR");
  Deno.env.set("OOD_DATA_DIR", dir);
  try {
    return await f();
  } finally {
    if (old === undefined) Deno.env.delete("OOD_DATA_DIR");
    else Deno.env.set("OOD_DATA_DIR", old);
  }
}

const text = (x: Parameters<typeof bundleOf>[0]) => String(bundleOf(x)["text/plain"]);

Deno.test("runEloc() with released weights loads the five folds, scores CIFAR vs the OOD sets and trains nothing", async () => {
  const data = dataRoot(), released = releasedRoot();
  try {
    const before = tf.memory().numTensors;
    const exp = await withDataDir(data, () => runEloc(releasedConfig(released)));
    assert.equal(tf.memory().numTensors, before, "no tensor kept");
    assert.equal(exp.released?.message, "");
    assert.deepEqual(exp.released?.files.map((f) => [f.id, f.status, f.oodEvaluated]), [
      ["eloc_cifar10_dense", "evaluated", ["tin_crop", "uniform"]],
    ]);
    assert.equal(exp.runs.length, 1);
    const run = exp.runs[0]!;
    assert.equal(run.result.trainSeconds, 0);
    assert.ok(run.result.folds.every((f) => f.steps === 0 && f.curve.length === 0));
    assert.deepEqual(run.result.folds[0]!.leftOut, [5, 4]);
    // 12 test images minus the 2 first positions of the seed-3 permutation; TinyImageNet's 4 likewise.
    assert.equal(exp.sets[0]!.test.shape[0], 10);
    assert.equal(exp.sets[0]!.ood.uniform!.shape[0], 10);
    assert.ok(exp.sets[0]!.ood.tin_crop!.shape[0] >= 2 && exp.sets[0]!.ood.tin_crop!.shape[0] <= 4);
    // Two OOD sets × two FPR rules, labelled and keyed as the paper's rows.
    assert.equal(exp.rows.length, 4);
    for (const r of exp.rows) {
      assert.equal(r.label, "ELOC (authors' released weights)");
      assert.equal(r.backbone, "densenet_bc_100");
      assert.equal(r.idDataset, "cifar10");
      assert.equal(r.score, "eloc");
      assert.ok(Number.isFinite(r.auroc!) && r.idAccuracy !== null);
    }
    const suite = run.result.suite;
    assert.deepEqual(suite.map((s) => s.oodDataset), ["tin_crop", "uniform"]);
    const paper = await loadPaperNumbers("eloc");
    const view = text(releasedView(exp, paper));
    assert.match(view, /eloc_cifar10_dense/);
    const table = paperVsOursTable(exp.runs, paper);
    const tin = table.rows.find((r) =>
      r.backbone === "densenet_bc_100" && r.idDataset === "cifar10" &&
      r.oodDataset === "tin_crop"
    )!;
    assert.match(String((tin.auroc as { text: string }).text), /^99\.65 \/ 99\.66 \/ \d/);
    // The training-only figures say there is nothing to plot instead of failing.
    assert.match(text(foldCurvesFigure(exp.runs)), /not trained here/);
    assert.match(text(epsilonSweepFigure(exp.runs)), /No ε sweep/);
    scoreHistograms(exp.runs);
    entropyMarginFigure(exp.runs);
    assert.equal(resultsName(releasedConfig(released)), "eloc_released");
  } finally {
    Deno.removeSync(data, { recursive: true });
    Deno.removeSync(released, { recursive: true });
  }
});

Deno.test("runEloc() with released weights absent returns the download message and runs nothing", async () => {
  const data = dataRoot(), empty = Deno.makeTempDirSync({ prefix: "ood-released-" });
  const log = console.log;
  const printed: string[] = [];
  console.log = (...a: unknown[]) => void printed.push(a.join(" "));
  try {
    const exp = await withDataDir(data, () => runEloc(releasedConfig(empty)));
    assert.equal(exp.runs.length, 0);
    assert.equal(exp.rows.length, 0);
    assert.deepEqual(exp.released?.files.map((f) => f.status), ["missing"]);
    const msg = exp.released!.message;
    assert.match(
      msg,
      /^eloc_cifar10_dense \(DenseNet-BC-100 .*\) is not in .*eloc\. Fetch it with: deno task data checkpoints eloc eloc_cifar10_dense\b/,
    );
    assert.equal(printed.join("\n"), `ELOC released weights — not everything is on disk:\n${msg}`);
    const view = text(releasedView(exp, await loadPaperNumbers("eloc")));
    assert.ok(view.startsWith(`${msg}\n\n`), view.slice(0, 300));
    assert.match(view, /not run \(files absent\)/);
    for (const fig of [foldCurvesFigure, entropyMarginFigure, scoreHistograms, epsilonSweepFigure]) {
      assert.match(text(fig([])), /Nothing was run/);
    }
  } finally {
    console.log = log;
    Deno.removeSync(data, { recursive: true });
    Deno.removeSync(empty, { recursive: true });
  }
});

Deno.test("runEloc() with released weights but no CIFAR-10 names the dataset command and runs nothing", async () => {
  const data = Deno.makeTempDirSync({ prefix: "ood-root-" }), released = releasedRoot();
  const log = console.log;
  console.log = () => {};
  try {
    const exp = await withDataDir(data, () => runEloc(releasedConfig(released)));
    assert.equal(exp.runs.length, 0);
    const msg = exp.released!.message;
    assert.match(msg, /Dataset "cifar10" is not available: .*Fetch it with: deno task data cifar10/);
    assert.match(msg, /Dataset "tin_crop" is not available: .*deno task data tin_crop/);
    assert.doesNotMatch(msg, /checkpoints eloc/);
  } finally {
    console.log = log;
    Deno.removeSync(data, { recursive: true });
    Deno.removeSync(released, { recursive: true });
  }
});

Deno.test("checkElocConfig() checks the released options and runEloc() keeps training without them", () => {
  const cfg = releasedConfig("/nowhere");
  assert.throws(() => checkElocConfig({ ...cfg, weights: "pretrained" as "train" }), /weights/);
  assert.throws(() => checkElocConfig({ ...cfg, released: undefined }), /released options/);
  assert.throws(
    () => checkElocConfig({ ...cfg, released: { ...cfg.released!, files: ["eloc_svhn" as "eloc_cifar10_dense"] } }),
    /released\.files/,
  );
  assert.equal(resultsName({ weights: "train" }), undefined);
  assert.equal(resultsName({}), undefined);
  const ids = elocDeviations(cfg).map((d) => d.id);
  assert.deepEqual(ids, ["released weights", "released ε", "released validation positions"]);
  assert.ok(!elocDeviations({ ...cfg, weights: "train" }).some((d) => d.id.startsWith("released")));
});
