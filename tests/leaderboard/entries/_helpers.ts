/** What every leaderboard entry test checks, and the tiny protocol they run under. */
import assert from "node:assert/strict";
import { auroc } from "@lib/metrics/auroc.ts";
import type { EntryResult, LeaderboardEntry, LeaderboardProtocol } from "@lib/leaderboard/types.ts";

/** A protocol small enough for a unit test: 150 training images (VMDLS's balanced batches need 5 × 16 known), 1 epoch. */
export const TINY: LeaderboardProtocol = {
  idDatasets: ["fashion_mnist"],
  knownClasses: 5,
  farOod: ["mnist", "gaussian", "inverted"],
  backbone: "lenet",
  width: 0.125,
  epochs: 1,
  batchSize: 32,
  trainLimit: 150,
  nTest: 100,
  nOod: 50,
  seeds: [0],
  dataSeed: 0,
  evalBatchSize: 100,
};

/**
 * Checks an entry's result: rows of the entry's paper with near (`<id>:unseen`) and far groups and distinct
 * (label, score, OOD set, FPR rule); every row backed by exactly one score record holding its OOD set (one record
 * per (label, score), or one per OOD set for a variant that selects per set) whose AUROC recomputed equals the
 * row's; every record backs a row; positive costs; notes.
 */
export function assertEntryResult(entry: LeaderboardEntry, r: EntryResult, idDataset: string, seed: number): void {
  assert.ok(r.rows.length > 0);
  const groups = new Set(r.rows.map((row) => `${row.oodDataset}:${row.oodGroup}`));
  assert.ok(groups.has(`${idDataset}:unseen:near`), [...groups].join(", "));
  for (const far of TINY.farOod) assert.ok(groups.has(`${far}:far`), `${far} is a far-OOD set`);
  const keys = r.rows.map((row) => `${row.label}|${row.score}|${row.oodDataset}|${row.fprRule}`);
  assert.equal(new Set(keys).size, keys.length, "rows are distinct");
  for (const row of r.rows) {
    assert.equal(row.paper, entry.paper);
    // The runner may tag its class split (`fashion_mnist:0-4`); `runLeaderboard` names every row by the ID dataset.
    assert.ok(row.idDataset === idDataset || row.idDataset.startsWith(`${idDataset}:`), row.idDataset);
    assert.equal(row.seed, seed);
    const recs = r.scores.filter((s) =>
      s.label === row.label && s.score === row.score && s.idDataset === row.idDataset && s.seed === seed &&
      s.sets.ood[row.oodDataset] !== undefined
    );
    assert.equal(recs.length, 1, `${row.label} / ${row.score} / ${row.oodDataset}: ${recs.length} records`);
    const { id, ood } = recs[0]!.sets;
    assert.equal(id.length, row.nId);
    assert.equal(ood[row.oodDataset]!.length, row.nOod);
    assert.ok(
      Math.abs(auroc(id, ood[row.oodDataset]!) - row.auroc!) < 1e-9,
      `${row.label} ${row.score} ${row.oodDataset}`,
    );
  }
  for (const s of r.scores) {
    assert.ok(r.rows.some((x) => x.label === s.label && x.score === s.score), `record ${s.label} has no row`);
  }
  for (const k of ["trainSeconds", "imagesSeen", "scoreSeconds"] as const) assert.ok(r[k] > 0, `${k} = ${r[k]}`);
  assert.ok(r.notes.length > 0 && r.notes.every((n) => n.length > 0));
}

/** The labels of the rows, in first-seen order. */
export function labels(r: EntryResult): string[] {
  return [...new Set(r.rows.map((row) => row.label))];
}
