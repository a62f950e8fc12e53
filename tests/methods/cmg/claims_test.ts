import assert from "node:assert/strict";
import { cmgClaims, cmgVariantClaims, partitionMeanRows } from "@lib/methods/cmg/claims.ts";
import { row } from "../../report/_fixtures.ts";

Deno.test("cmgVariantClaims(): CMG-s and CMG-e against the better stage-1 baseline, CMG-e against both ablations", () => {
  const claims = cmgVariantClaims("faithful");
  assert.deepEqual(claims.map((c) => c.id), [
    "cmg-s-beats-stage1-faithful",
    "cmg-e-beats-stage1-faithful",
    "mixing-matters-faithful",
    "far-sigma-matters-faithful",
  ]);
  assert.deepEqual(claims[0]!.before, { method: "ce", variant: "none", score: ["msp", "energy"] });
  assert.deepEqual(claims[0]!.after, { method: "cmgS", variant: "faithful", score: "cmgS" });
  assert.deepEqual(claims[2]!.before, { method: "cmgSingle", variant: "faithful", score: "cmgE" });
  assert.ok(claims.every((c) => c.metric === "auroc" && c.text.endsWith("(faithful)")));
});

Deno.test("cmgClaims() drops the claims of runs the config does not make", () => {
  const all = { methods: ["ce", "cmgS", "cmgE", "cmgSingle", "cmgSigma1"], variants: ["faithful", "clean"] } as const;
  assert.equal(cmgClaims(all).length, 8);
  assert.deepEqual(cmgClaims({ ...all, methods: ["ce", "cmgE"] }).map((c) => c.id), [
    "cmg-e-beats-stage1-faithful",
    "cmg-e-beats-stage1-clean",
  ]);
});

Deno.test("partitionMeanRows() puts every partition of a dataset under one ID dataset and keeps the rest", () => {
  const key = { score: "cmgE", oodDataset: "mnist:unseen", seed: 0 };
  const rows = [
    row({ ...key, idDataset: "mnist:p1" }, { auroc: 0.9 }),
    row({ ...key, idDataset: "mnist:p5" }, { auroc: 0.7 }),
  ];
  const out = partitionMeanRows(rows);
  assert.deepEqual(out.map((r) => r.idDataset), Array(2).fill("mnist, mean over partitions"));
  assert.deepEqual(out.map((r) => r.auroc), [0.9, 0.7]);
  assert.equal(rows[0]!.idDataset, "mnist:p1", "the input is not changed");
  const setting2 = partitionMeanRows([row({ ...key, idDataset: "cifar10", oodDataset: "svhn" }, { auroc: 0.8 })]);
  assert.equal(setting2[0]!.idDataset, "cifar10", "a Setting-2 row (no partition) is kept");
});
