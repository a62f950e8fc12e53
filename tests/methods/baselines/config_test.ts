import assert from "node:assert/strict";
import { checkBaselinesConfig } from "@lib/methods/baselines/config.ts";
import { toyConfig } from "./_fixtures.ts";

Deno.test("checkBaselinesConfig() returns a consistent config unchanged", () => {
  const cfg = toyConfig();
  assert.equal(checkBaselinesConfig(cfg), cfg);
});

Deno.test("checkBaselinesConfig() names the field and the valid values of an inconsistent config", () => {
  const bad = (patch: Record<string, unknown>) => () => checkBaselinesConfig({ ...toyConfig(), ...patch } as never);
  assert.throws(
    bad({ idDatasets: ["cifar10"] }),
    /idDatasets entry "cifar10" is unknown\. Valid: mnist, fashion_mnist\./,
  );
  assert.throws(bad({ idDatasets: [] }), /idDatasets is empty/);
  assert.throws(bad({ oodDatasets: ["nope"] }), /oodDatasets entry "nope" is unknown\. Valid: mnist, fashion_mnist, /);
  assert.throws(bad({ seeds: [0, 0] }), /seeds repeat: 0, 0/);
  assert.throws(bad({ seeds: [] }), /seeds is empty/);
  assert.throws(bad({ backbone: "alexnet" }), /backbone "alexnet" is unknown/);
  assert.throws(bad({ scores: ["msp", "gradnrom"] }), /scores entry "gradnrom" is unknown\. Valid: msp, maxLogit, /);
  assert.throws(
    bad({ scores: ["msp", "vmdls"] }),
    /scores entry "vmdls" is unknown/,
    "paper-specific scores are refused",
  );
  assert.throws(bad({ nOod: 0 }), /nOod must be a positive integer, got 0/);
  assert.throws(bad({ fitLimit: 1.5 }), /fitLimit must be a positive integer, got 1\.5/);
  assert.throws(bad({ knn: { k: 100, bankSize: 10 } }), /knn\.k = 100 exceeds knn\.bankSize = 10/);
  assert.throws(bad({ mahalanobis: { shrinkage: 2 } }), /shrinkage must be in \[0, 1\], got 2/);
  assert.throws(bad({ fprRule: "nearest" }), /fprRule "nearest" is unknown\. Valid: sklearn, hendrycks, odin\./);
  assert.throws(
    bad({ scores: ["msp"], figures: { histogramScores: ["energy"], projectionPerSet: 5 } }),
    /figures\.histogramScores has "energy", which is not in scores/,
  );
  assert.throws(bad({ train: { ...toyConfig().train, epochs: 0 } }), /train\.epochs must be a positive integer/);
});
