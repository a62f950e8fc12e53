import assert from "node:assert/strict";
import { initBackend } from "@lib/engine/mod.ts";
import { checkCmgConfig, cmgClasses, cmgFamily, type CmgSplitSetting } from "@lib/methods/cmg/config.ts";
import { settingIdDataset, settingSlug } from "@lib/methods/cmg/run.ts";
import { cmgEntry, cmgEntryConfig } from "@lib/leaderboard/entries/cmg.ts";
import { assertEntryResult, labels, TINY } from "./_helpers.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("CMG split setting: K = k seen classes, K + 5 outputs, the CVAE family by image shape", () => {
  assert.deepEqual(cmgClasses({ setting: "split", knownClasses: 5 }), { K: 5, nOut: 10 });
  assert.deepEqual(cmgClasses({ setting: "split", knownClasses: 6 }), { K: 6, nOut: 11 });
  assert.deepEqual(cmgClasses({ setting: 1 }), { K: 6, nOut: 11 });
  assert.deepEqual(cmgClasses({ setting: 2 }), { K: 10, nOut: 110 });
  assert.equal(cmgFamily({ setting: "split", idDataset: "fashion_mnist" }), "mnist");
  assert.equal(cmgFamily({ setting: "split", idDataset: "cifar100" }), "cifar10");
  assert.equal(cmgFamily({ setting: 1, idDataset: "mnist" }), "mnist");
  const s: CmgSplitSetting = {
    setting: "split",
    idDataset: "fashion_mnist",
    knownClasses: 5,
    oodDatasets: ["mnist"],
    backbone: "lenet",
    width: 1,
  };
  assert.equal(settingSlug(s), "fashion_mnist-k5-lenet-w1");
  assert.equal(settingIdDataset(s), "fashion_mnist:0-4");
});

Deno.test("checkCmgConfig() accepts a split setting with any backbone and rejects bad ones", () => {
  const cfg = cmgEntryConfig(TINY, "fashion_mnist", 0);
  checkCmgConfig(cfg);
  const split = cfg.settings[0] as CmgSplitSetting;
  const withSetting = (s: Partial<CmgSplitSetting>) => ({ ...cfg, settings: [{ ...split, ...s }] });
  assert.throws(() => checkCmgConfig(withSetting({ knownClasses: 10 })), /knownClasses/);
  assert.throws(() => checkCmgConfig(withSetting({ knownClasses: 1 })), /knownClasses/);
  assert.throws(() => checkCmgConfig(withSetting({ backbone: "nope" as never })), /backbone/);
  assert.throws(() => checkCmgConfig(withSetting({ oodDatasets: ["nope" as never] })), /oodDatasets/);
  // Setting 1 still needs cmg_cnn on MNIST.
  assert.throws(
    () =>
      checkCmgConfig({
        ...cfg,
        settings: [{ setting: 1, idDataset: "mnist", partition: 1, backbone: "resnet18", width: 1 }],
      }),
    /backbone/,
  );
});

Deno.test("cmgEntryConfig() scales stage 2 with the protocol's epochs", () => {
  const cfg = cmgEntryConfig({ ...TINY, epochs: 4, batchSize: 32 }, "fashion_mnist", 1);
  assert.deepEqual(cfg.methods, ["cmgS", "cmgE"]);
  assert.equal(cfg.classifier.epochs.mnist, 4);
  assert.equal(cfg.classifier.batchSize, 32);
  assert.equal(cfg.cvae.epochs.mnist, 4);
  assert.equal(cfg.finetune.epochs, 2);
  assert.equal(cmgEntryConfig(TINY, "fashion_mnist", 0).finetune.epochs, 1);
});

Deno.test("cmgEntry.run() returns CMG-s and CMG-e rows (near and far) with their score records", async () => {
  const r = await cmgEntry.run(TINY, "fashion_mnist", 0);
  assertEntryResult(cmgEntry, r, "fashion_mnist", 0);
  assert.deepEqual(labels(r), ["CMG-s (faithful)", "CMG-s (clean)", "CMG-e (faithful)", "CMG-e (clean)"]);
  assert.equal(r.scores.filter((s) => s.label === "CMG-e (clean)").length, 1);
  assert.deepEqual(new Set(r.rows.map((x) => x.score)), new Set(["cmgS", "cmgE"]));
});
