import assert from "node:assert/strict";
import { checkCiderConfig, type CiderConfig } from "@lib/methods/cider/config.ts";
import { tinyConfig } from "./_fixtures.ts";

Deno.test("checkCiderConfig() accepts a valid config and returns it unchanged", () => {
  const cfg = tinyConfig();
  assert.equal(checkCiderConfig(cfg), cfg);
});

Deno.test("checkCiderConfig() names the field and the valid values of an inconsistent config", () => {
  const bad = (patch: (c: CiderConfig) => CiderConfig, pattern: RegExp) =>
    assert.throws(() => checkCiderConfig(patch(tinyConfig())), pattern);
  bad(
    (c) => ({ ...c, methods: ["cider-clean"] as unknown as CiderConfig["methods"] }),
    /methods entry "cider-clean" is unknown\. Valid: ce, supcon, cider\./,
  );
  bad((c) => ({ ...c, variants: ["none" as "clean"] }), /variants entry "none" is unknown\. Valid: faithful, clean/);
  bad((c) => ({ ...c, methods: ["ce", "ce"] }), /methods repeat/);
  bad((c) => ({ ...c, seeds: [] }), /seeds is empty/);
  bad((c) => ({ ...c, oodDatasets: ["nope" as "mnist"] }), /oodDatasets entry "nope" is unknown\. Valid: mnist/);
  bad(
    (c) => ({ ...c, settings: [{ ...c.settings[0]!, idDataset: "svhn" as "mnist" }] }),
    /idDataset "svhn" is unknown/,
  );
  bad(
    (c) => ({ ...c, settings: [{ ...c.settings[0]!, backbone: "lenet" as "resnet18" }] }),
    /backbone "lenet".*resnet18, resnet34/,
  );
  bad(
    (c) => ({ ...c, settings: [{ ...c.settings[0]!, prototypeMomentum: 1 }] }),
    /prototypeMomentum must be in \[0, 1\)/,
  );
  bad((c) => ({ ...c, settings: [{ ...c.settings[0]!, k: 100 }] }), /k = 100 exceeds trainLimit = 16/);
  bad(
    (c) => ({ ...c, normalization: "cifar" as "cifarSupcon" }),
    /normalization "cifar" is unknown\. Valid: train-statistics/,
  );
  bad((c) => ({ ...c, train: { ...c.train, epochs: 0 } }), /train\.epochs must be a positive integer/);
  bad((c) => ({ ...c, train: { ...c.train, warmup: { enabled: true, epochs: 0, from: 0.001 } } }), /warmup\.epochs/);
  bad((c) => ({ ...c, cider: { ...c.cider, compactnessBaseTemperature: 0 } }), /compactnessBaseTemperature/);
  bad((c) => ({ ...c, mahalanobis: { enabled: true, shrinkage: 2 } }), /shrinkage must be in \[0, 1\]/);
});
