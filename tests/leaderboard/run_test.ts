import assert from "node:assert/strict";
import type { DatasetName } from "@lib/datasets/registry.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { toRows } from "@lib/experiment/rows.ts";
import { checkLeaderboardConfig, type LeaderboardConfig } from "@lib/leaderboard/config.ts";
import { protocolSets, runLeaderboard } from "@lib/leaderboard/run.ts";
import type { LeaderboardEntry, LeaderboardProtocol } from "@lib/leaderboard/types.ts";

await initBackend({ backend: "cpu", log: null });

const PROTOCOL: LeaderboardProtocol = {
  idDatasets: ["fashion_mnist", "mnist"],
  knownClasses: 5,
  farOod: ["mnist", "fashion_mnist", "gaussian"],
  backbone: "lenet",
  width: 1,
  epochs: 1,
  batchSize: 32,
  trainLimit: 100,
  nTest: 60,
  nOod: 20,
  seeds: [0, 1],
  dataSeed: 0,
  evalBatchSize: 100,
};

const CONFIG: LeaderboardConfig = {
  protocol: PROTOCOL,
  papers: ["baselines", "cider"],
  bootstrap: { resamples: 50, seed: 0 },
};

const loaded = new Map<string, ReturnType<typeof protocolSets>>();
/** The protocol's sets, loaded once per ID dataset for all the test doubles. */
function setsOf(protocol: LeaderboardProtocol, id: DatasetName) {
  if (!loaded.has(id)) loaded.set(id, protocolSets(protocol, id));
  return loaded.get(id)!;
}

/** An entry that "scores" the protocol's sets with a fixed function of the image mean (no training). */
function fakeEntry(paper: string, label: string, seenBy: string[]): LeaderboardEntry {
  return {
    paper,
    title: `${paper} (test double)`,
    async run(protocol, idDataset, seed) {
      seenBy.push(`${paper}/${idDataset}/${seed}`);
      const sets = await setsOf(protocol, idDataset);
      const score = (ds: { images: Uint8Array; shape: readonly number[] }) => {
        const [n, h, w, c] = ds.shape as [number, number, number, number];
        const out = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let p = 0; p < h * w * c; p++) s += ds.images[i * h * w * c + p]!;
          out[i] = s / (h * w * c) + seed;
        }
        return out;
      };
      const scoreSets = {
        id: score(sets.test),
        ood: Object.fromEntries(Object.entries(sets.ood).map(([k, ds]) => [k, score(ds)])),
      };
      const rows = toRows(
        { paper, method: "m", label, backbone: protocol.backbone, idDataset: `${idDataset}:0-4`, seed },
        { mean: scoreSets },
        { oodGroups: sets.oodGroups },
      );
      return {
        rows,
        scores: [{ label, score: "mean", idDataset: `${idDataset}:0-4`, seed, sets: scoreSets }],
        trainSeconds: 1.5,
        imagesSeen: protocol.epochs * sets.train.shape[0],
        scoreSeconds: 0.25,
        notes: [`${paper}: a test double`],
      };
    },
  };
}

Deno.test("checkLeaderboardConfig() names the field: known classes, an unknown set, backbone or paper", () => {
  assert.equal(checkLeaderboardConfig(CONFIG), CONFIG);
  const bad = (protocol: Partial<LeaderboardProtocol>, more: Partial<LeaderboardConfig> = {}) => () =>
    checkLeaderboardConfig({ ...CONFIG, ...more, protocol: { ...PROTOCOL, ...protocol } });
  assert.throws(bad({ knownClasses: 10 }), /knownClasses must leave unseen classes: 10 of fashion_mnist's 10/);
  assert.throws(bad({ knownClasses: 1 }), /knownClasses must be at least 2/);
  assert.throws(bad({ farOod: ["svhm" as "svhn"] }), /protocol\.farOod entry "svhm" is unknown/);
  assert.throws(bad({ backbone: "resnet9" as "lenet" }), /protocol\.backbone "resnet9" is unknown\. Valid: lenet/);
  assert.throws(bad({}, { papers: ["oe" as "cider"] }), /papers entry "oe" is unknown/);
});

Deno.test("protocolSets() trains on the first k classes and marks their unseen test images near, the rest far", async () => {
  const sets = await protocolSets(PROTOCOL, "fashion_mnist");
  assert.ok(sets.train.labels.every((y) => y >= 0 && y < 5));
  assert.deepEqual(Object.keys(sets.ood), ["mnist", "gaussian", "fashion_mnist:unseen"]);
  assert.deepEqual(sets.oodGroups, { mnist: "far", gaussian: "far", "fashion_mnist:unseen": "near" });
});

Deno.test("runLeaderboard() runs every entry on every ID dataset and seed and gathers rows, scores, costs, notes", async () => {
  const seen: string[] = [];
  const entries = { baselines: fakeEntry("baselines", "CE + mean", seen), cider: fakeEntry("cider", "CIDER", seen) };
  const exp = await runLeaderboard(CONFIG, entries);
  assert.deepEqual(seen, [
    "baselines/fashion_mnist/0",
    "cider/fashion_mnist/0",
    "baselines/fashion_mnist/1",
    "cider/fashion_mnist/1",
    "baselines/mnist/0",
    "cider/mnist/0",
    "baselines/mnist/1",
    "cider/mnist/1",
  ]);
  assert.equal(exp.sets.length, 2);
  assert.equal(exp.scores.length, 8);
  assert.deepEqual(exp.costs.map((c) => [c.paper, c.idDataset, c.seed]), [
    ["baselines", "fashion_mnist", 0],
    ["cider", "fashion_mnist", 0],
    ["baselines", "fashion_mnist", 1],
    ["cider", "fashion_mnist", 1],
    ["baselines", "mnist", 0],
    ["cider", "mnist", 0],
    ["baselines", "mnist", 1],
    ["cider", "mnist", 1],
  ]);
  assert.deepEqual(exp.notes, { baselines: ["baselines: a test double"], cider: ["cider: a test double"] });
  // Three OOD sets per ID dataset (two far, one near): 3 rows per run.
  assert.equal(exp.rows.length, 8 * 3);
  assert.deepEqual([...new Set(exp.rows.map((r) => r.oodGroup))].sort(), ["far", "near"]);
  assert.deepEqual([...new Set(exp.rows.map((r) => r.idDataset))], ["fashion_mnist", "mnist"]);
});

Deno.test("runLeaderboard() refuses a paper without an entry, and an entry whose rows have no scores", async () => {
  const seen: string[] = [];
  await assert.rejects(
    runLeaderboard(CONFIG, { baselines: fakeEntry("baselines", "CE", seen) }),
    /no entry for paper "cider"/,
  );
  const broken: LeaderboardEntry = {
    ...fakeEntry("cider", "CIDER", seen),
    run: async (p, id, seed) => ({ ...(await fakeEntry("cider", "CIDER", seen).run(p, id, seed)), scores: [] }),
  };
  await assert.rejects(
    runLeaderboard({ ...CONFIG, papers: ["cider"] }, { cider: broken }),
    /leaderboard entry cider: no scores for row "CIDER" \/ mean \/ fashion_mnist:0-4 \/ mnist/,
  );
});

Deno.test("runLeaderboard() loads nearOod datasets with the far ones for the entries and files their rows as near", async () => {
  const seen: string[] = [];
  const protocol = { ...PROTOCOL, idDatasets: ["fashion_mnist"] as const, farOod: ["mnist"] as const, seeds: [0] };
  const cfg = checkLeaderboardConfig({
    ...CONFIG,
    papers: ["cider"],
    protocol: { ...protocol, nearOod: ["gaussian"] },
  });
  const exp = await runLeaderboard(cfg, { cider: fakeEntry("cider", "CIDER", seen) });
  const groups = Object.fromEntries(exp.rows.map((r) => [r.oodDataset, r.oodGroup]));
  assert.deepEqual(groups, { mnist: "far", gaussian: "near", "fashion_mnist:unseen": "near" });
  assert.equal(exp.sets[0]!.oodGroups.gaussian, "near");
  assert.throws(
    () => checkLeaderboardConfig({ ...CONFIG, protocol: { ...PROTOCOL, nearOod: ["mnist"] } }),
    /protocol\.nearOod entry "mnist" is also far-OOD/,
  );
});
