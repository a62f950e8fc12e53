/**
 * The notebook's released-weights path end to end: with a narrow checkpoint made the authors' way
 * (tests/checkpoints/released/testdata) in a temporary `OOD_RELEASED_DIR` and the miniature data root of
 * tests/datasets (CIFAR-10 binary batches, SVHN .mat, iSUN PNGs), `runCider` trains nothing and returns rows of the
 * authors' network; without the file or the data it returns what to download and evaluates nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { checkCiderConfig, type CiderConfig } from "@lib/methods/cider/config.ts";
import { runCider } from "@lib/methods/cider/run.ts";
import { RELEASED_LABEL, releasedComparisonTable } from "@lib/methods/cider/released.ts";
import { releasedView, trainingFigures } from "@lib/methods/cider/display.ts";
import { ciderDeviations } from "@lib/methods/cider/deviations.ts";
import { bundleOf, type Displayable } from "@lib/report/jupyter.ts";
import { loadPaperNumbers } from "@lib/report/paper_numbers.ts";
import { tempDataRoot } from "../../datasets/_fixtures.ts";
import { tinyConfig } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const FIXTURE = fileURLToPath(
  new URL("../../checkpoints/released/testdata/cider_c10_resnet18.pth.tar", import.meta.url),
);

function releasedConfig(): CiderConfig {
  return checkCiderConfig({
    ...tinyConfig(),
    weights: "released",
    released: {
      files: ["cider_cifar10_resnet18"],
      oodDatasets: ["svhn", "isun"],
      trainLimit: null,
      nTest: null,
      nOod: null,
    },
  });
}

/** Runs `f` with `OOD_DATA_DIR` and `OOD_RELEASED_DIR` set, then restores the environment and removes both. */
async function withDirs<T>(dirs: { data: string; released: string }, f: () => Promise<T>): Promise<T> {
  Deno.env.set("OOD_DATA_DIR", dirs.data);
  Deno.env.set("OOD_RELEASED_DIR", dirs.released);
  try {
    return await f();
  } finally {
    Deno.env.delete("OOD_DATA_DIR");
    Deno.env.delete("OOD_RELEASED_DIR");
    for (const d of [dirs.data, dirs.released]) Deno.removeSync(d, { recursive: true });
  }
}

/** Every text a display carries (plain, markdown, HTML). */
const text = (d: Displayable) =>
  ["text/plain", "text/markdown", "text/html"].map((m) => String(bundleOf(d)[m] ?? "")).join("\n");

Deno.test("runCider(weights: released) evaluates the authors' checkpoint on the paper's data formats without training", async () => {
  const released = Deno.makeTempDirSync({ prefix: "ood-released-" });
  Deno.mkdirSync(join(released, "cider"));
  Deno.copyFileSync(FIXTURE, join(released, "cider", "ckpt_c10-checkpoint_500.pth.tar"));
  const before = tf.memory().numTensors;
  const exp = await withDirs({ data: tempDataRoot(), released }, () => runCider(releasedConfig()));
  assert.equal(tf.memory().numTensors, before, "no tensor leaked");
  assert.equal(exp.runs.length, 0, "nothing trained");
  assert.deepEqual(Object.keys(exp.timings.toJSON()), ["released"], "one stage: the released evaluation");
  const out = exp.released!;
  assert.equal(out.missing, null);
  assert.equal(out.evaluations.length, 1);
  const ev = out.evaluations[0]!;
  assert.deepEqual([ev.width, ev.featDim, ev.k], [1 / 64, 8, 10], "width and head read from the file; K capped");
  assert.deepEqual(Object.keys(ev.sets.ood), ["svhn", "isun"]);
  assert.equal(ev.sets.train.shape[0], 10);
  // Two OOD sets × two FPR rules, KNN only, every row labelled as the authors' weights.
  assert.equal(exp.rows.length, 4);
  for (const r of exp.rows) {
    assert.equal(r.label, RELEASED_LABEL);
    assert.equal(r.score, "knn");
    assert.equal(r.idDataset, "cifar10");
    assert.equal(r.backbone, "resnet18");
    assert.ok(r.auroc !== null && r.auroc >= 0 && r.auroc <= 1);
    assert.ok(r.idAccuracy !== null, "probe accuracy");
  }
  assert.deepEqual(ev.scores.knn!.id.length, 3, "3 ID test scores");
  const table = text(releasedComparisonTable(out, await loadPaperNumbers("cider")));
  for (const s of ["3.04 ± 1.38", "1.81", "paper T6", "authors' sample", "ours"]) assert.ok(table.includes(s), s);
  const view = text(releasedView(exp, await loadPaperNumbers("cider")));
  assert.ok(view.includes("cifar10 · resnet18 (K = 10)"), "the KNN histograms of the evaluated network");
  assert.ok(text(await trainingFigures(releasedConfig(), exp)).includes("No training"));
});

Deno.test("runCider(weights: released) without the file or the data says what to download and evaluates nothing", async () => {
  const released = Deno.makeTempDirSync({ prefix: "ood-released-" });
  const exp = await withDirs(
    { data: Deno.makeTempDirSync({ prefix: "ood-empty-" }), released },
    () => runCider(releasedConfig()),
  );
  assert.equal(exp.runs.length + exp.rows.length + exp.sets.length, 0);
  const missing = exp.released!.missing!;
  assert.match(missing, /^Released-weights run: not evaluated \(nothing was trained\):\n/);
  assert.ok(missing.includes("cider_cifar10_resnet18 (CIDER CIFAR-10 ResNet-18, MLP head 128-d, epoch 500"), missing);
  assert.ok(
    missing.includes(
      "Download it in a browser from https://drive.google.com/drive/folders/1rkXQYHcaITZCj55OLNXqy_b-yjktONrn?usp=share_link, " +
        "then: deno task data checkpoints cider cider_cifar10_resnet18 --import <the downloaded file>",
    ),
    missing,
  );
  for (const d of ["cifar10", "svhn", "isun"]) {
    assert.ok(missing.includes(`Dataset "${d}" is not available`) && missing.includes(`deno task data ${d}`), d);
  }
  const view = text(releasedView(exp, await loadPaperNumbers("cider")));
  assert.ok(view.includes("Not run here") && view.includes("--import"), "the display shows the message");
  assert.ok(view.includes("not run here (see the message above"), "the table says ours is not run");
});

Deno.test("checkCiderConfig() refuses released weights without released options and unknown files", () => {
  assert.throws(
    () => checkCiderConfig({ ...tinyConfig(), weights: "released" }),
    /weights is "released" but released is not set/,
  );
  assert.throws(
    () =>
      checkCiderConfig({
        ...releasedConfig(),
        released: { ...releasedConfig().released!, files: ["cider_imagenet100_resnet34" as "cider_cifar10_resnet18"] },
      }),
    /released\.files entry/,
  );
  assert.equal(checkCiderConfig(tinyConfig()).weights, undefined, "train by default");
});

Deno.test("ciderDeviations() of a released run lists the evaluation's deviations, not the training's", () => {
  const ids = ciderDeviations(releasedConfig(), "smoke").map((d) => d.id);
  assert.deepEqual(ids, ["network", "KNN", "sizes", "preprocessing", "ID accuracy", "published numbers"]);
  assert.ok(ciderDeviations(tinyConfig(), "smoke").some((d) => d.id === "warm-up"));
});
