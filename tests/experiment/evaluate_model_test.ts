import assert from "node:assert/strict";
import { initBackend } from "@lib/engine/mod.ts";
import { evaluateModel } from "@lib/experiment/evaluate_model.ts";
import { scoreAll } from "@lib/experiment/score.ts";
import { toRows } from "@lib/experiment/rows.ts";
import { argmaxRows } from "@lib/scores/matrix.ts";
import { clusterSets, extractableStub } from "../scores/_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const key = { paper: "demo", method: "ce", backbone: "stub", idDataset: "clusters", seed: 0 };

Deno.test("evaluateModel() equals scoreAll() then toRows() with argmax predictions, the sets' groups and the score seconds", async () => {
  const net = extractableStub();
  const sets = { ...clusterSets(), oodGroups: { unseen: "near" as const } };
  const specs = [{ use: "msp" as const }, { use: "knn" as const, opts: { k: 3 } }];
  const out = await evaluateModel(net, sets, specs, key, {
    batchSize: 16,
    seed: 0,
    fprRules: ["sklearn", "hendrycks"],
  });
  const table = await scoreAll(net, sets, specs, { batchSize: 16, seed: 0 });
  const predictions = argmaxRows(table.outputs.test.logits);
  assert.deepEqual(out.predictions, predictions);
  const expected = toRows(key, table.scores, {
    fprRules: ["sklearn", "hendrycks"],
    classification: {
      labels: table.outputs.test.labels,
      predictions,
      numClasses: sets.test.classes.length,
      oodPredictions: { unseen: argmaxRows(table.outputs.ood.unseen!.logits) },
    },
    oodGroups: sets.oodGroups,
  });
  const strip = (rows: typeof expected) => rows.map(({ scoreSeconds: _s, ...r }) => r);
  assert.deepEqual(strip(out.rows), strip(expected));
  assert.equal(out.rows.length, 2 * 1 * 2, "scores × OOD sets × FPR rules");
  assert.ok(out.rows.every((r) => r.oodGroup === "near" && r.scoreSeconds !== null && r.macroF1 !== null));
  assert.equal(out.rows.find((r) => r.score === "knn")!.scoreSeconds, out.table.seconds.knn);
});

Deno.test("evaluateModel() takes the method's own ID predictions (e.g. a linear probe's)", async () => {
  const net = extractableStub();
  const sets = { ...clusterSets(), oodGroups: {} };
  const k = sets.test.classes.length;
  const wrong = (labels: Int32Array) => Int32Array.from(labels, (l) => (l + 1) % k);
  const out = await evaluateModel(net, sets, [{ use: "msp" }], key, {
    batchSize: 16,
    seed: 0,
    fprRules: ["sklearn"],
    classifier: () => (o) => wrong(o.labels),
  });
  assert.deepEqual(out.predictions, wrong(sets.test.labels));
  assert.equal(out.rows[0]!.idAccuracy, 0, "accuracy comes from the given predictions");
  assert.equal(out.rows[0]!.oodGroup, "far", "sets without a group are far-OOD");
});
