import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { trainStage } from "@lib/methods/unleashing_mask/finetune.ts";
import { seedEverything } from "@lib/train/seed.ts";
import { tinyDataset, tinyNet } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const recipe = {
  epochs: 2,
  batchSize: 16,
  lr: 0.05,
  momentum: 0.9,
  weightDecay: 1e-4,
  augment: "none" as const,
  seed: 1,
};

Deno.test("trainStage() with OE pairs every ID batch with outliers, cycling a smaller outlier set", async () => {
  seedEverything(0);
  const net = tinyNet();
  const before = tf.memory().numTensors;
  const r = await trainStage(net, tinyDataset(48, 1), {
    ...recipe,
    criterion: { kind: "um", um: 0.5 },
    oe: { aux: tinyDataset(10, 2, "aux", true), weight: 0.5 },
  });
  assert.equal(r.steps, 2 * 3, "3 ID batches per epoch although the outliers fill one batch");
  assert.equal(r.history.length, 2);
  assert.ok(r.history.every((p) => Number.isFinite(p.loss) && p.loss > p.ce), "loss = UM(CE) + 0.5·L_OE > CE");
  assert.deepEqual(r.history.map((p) => p.lr), [0.05, 0.025], "UM's per-epoch cosine");
  assert.equal(tf.memory().numTensors, before, "batches and optimizer slots freed");
  net.model.dispose();
});

Deno.test("trainStage() with the UM criterion holds the training CE near UM instead of driving it down", async () => {
  seedEverything(0);
  const ds = tinyDataset(48, 1);
  const ce = await trainStage(tinyNet(), ds, { ...recipe, epochs: 6, criterion: { kind: "ce" } });
  seedEverything(0);
  const um = await trainStage(tinyNet(), ds, { ...recipe, epochs: 6, criterion: { kind: "um", um: 0.9 } });
  const last = (h: typeof ce.history) => h[h.length - 1]!.ce;
  assert.ok(last(ce.history) < 0.9, `CE keeps descending: ${last(ce.history)}`);
  assert.ok(Math.abs(last(um.history) - 0.9) < Math.abs(last(ce.history) - 0.9), `UM: ${last(um.history)}`);
});
