import assert from "node:assert/strict";
import { type ClaimResult, evaluateClaims } from "@lib/experiment/claims.ts";
import type { ResultRow, Variant } from "@lib/report/results.ts";
import { VMDLS_CLAIMS, vmdlsClaims } from "@lib/methods/vmdls/claims.ts";
import { VMDLS_MNIST_TRAIN } from "@lib/methods/vmdls/train.ts";
import type { VmdlsConfig } from "@lib/methods/vmdls/config.ts";
import { row } from "../../report/_fixtures.ts";
import { REFERENCE } from "./_fixtures.ts";

/** Rows of one (setting, training, variant, score): per seed [AUROC, macro-F1], ±0.02 around it on two OOD sets. */
function rows(
  idDataset: string,
  method: string,
  variant: Variant,
  score: string,
  perSeed: readonly (readonly [number, number])[],
): ResultRow[] {
  return perSeed.flatMap(([auroc, macroF1], seed) =>
    [["fashion_mnist", 0.02], ["uniform", -0.02]].map(([oodDataset, d]) =>
      row(
        {
          paper: "vmdls",
          method,
          variant,
          score,
          label: `${method} (${variant})`,
          idDataset,
          oodDataset: oodDataset as string,
          seed,
          backbone: "mnist_conv",
        },
        { auroc: auroc + (d as number), macroF1: macroF1 + (d as number) },
      )
    )
  );
}

const MNIST = [
  ...rows("mnist", "vmdls", "clean", "vmdls", [[0.95, 0.90], [0.96, 0.90]]),
  ...rows("mnist", "vmdls", "faithful", "vmdls", [[0.97, 0.99], [0.97, 0.99]]),
  ...rows("mnist", "vmdls", "clean", "vmdlsNoRecon", [[0.93, 0.92], [0.94, 0.92]]),
  ...rows("mnist", "vmdls", "clean", "vmdlsLatent", [[0.90, 0.80], [0.90, 0.80]]),
  ...rows("mnist", "noDistancing", "clean", "vmdls", [[0.97, 0.85], [0.90, 0.85]]),
  ...rows("mnist", "noKl", "clean", "vmdls", [[0.91, 0.85], [0.91, 0.85]]),
  ...rows("mnist", "ce", "none", "msp", [[0.85, 0.70], [0.85, 0.70]]),
  ...rows("mnist", "ce", "none", "mahalanobisEnsemble", [[0.92, 0.60], [0.93, 0.60]]),
  ...rows("mnist", "ce", "none", "vmdls", [[0.94, 0.95], [0.99, 0.95]]),
];
// The open-set split: only VMDLS (clean, one seed) and CE + MSP ran.
const OPEN = [
  ...rows("mnist:0-5", "vmdls", "clean", "vmdls", [[0.80, 0.75]]),
  ...rows("mnist:0-5", "ce", "none", "msp", [[0.85, 0.70]]),
];

function find(results: ClaimResult[], id: string, setting = "mnist · mnist_conv"): ClaimResult {
  const r = results.filter((c) => c.id === id && c.setting === setting);
  assert.equal(r.length, 1, `${id} in ${setting}: ${r.length} results`);
  return r[0]!;
}

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);

Deno.test("VMDLS_CLAIMS: against the CE baselines, the best of MSP and Mahalanobis, per seed over OOD sets", () => {
  const res = evaluateClaims([...MNIST, ...OPEN], VMDLS_CLAIMS);
  const best = find(res, "ce-best-clean-auroc");
  assert.match(best.before, /mahalanobisEnsemble$/);
  assert.match(best.after, /vmdls \(clean\) \+ vmdls$/);
  close(best.beforeMean, 0.925);
  close(best.afterMean, 0.955);
  assert.deepEqual([best.holds, best.seedsAgree, best.seeds], [true, 2, 2]);
  // On macro-F1 the best CE baseline is MSP.
  const f1 = find(res, "ce-best-clean-macroF1");
  assert.match(f1.before, /msp$/);
  assert.deepEqual([f1.holds, f1.seedsAgree], [true, 2]);
  // CE + VMDLS's Gaussians: stated separately, and here it wins.
  const g = find(res, "ce-gaussians-clean-auroc");
  assert.match(g.before, /ce \(none\) \+ vmdls$/);
  assert.deepEqual([g.holds, g.seedsAgree, g.seeds], [false, 1, 2]); // 0.955 vs 0.965; seed 0 agrees
  assert.equal(find(res, "ce-gaussians-clean-macroF1").holds, false);
  // Faithful: AUROC only (its macro-F1 is a test-set oracle).
  const f = find(res, "ce-best-faithful-auroc");
  assert.match(f.after, /faithful/);
  assert.deepEqual([f.holds, f.seedsAgree], [true, 2]);
  assert.equal(res.some((c) => c.id.includes("faithful") && c.metric === "macroF1"), false);
  assert.ok(VMDLS_CLAIMS.every((c) => c.after.variant !== "faithful" || c.metric === "auroc"));
});

Deno.test("VMDLS_CLAIMS: each ablated part, on the clean variant", () => {
  const res = evaluateClaims(MNIST, VMDLS_CLAIMS);
  const nd = find(res, "no-distancing-auroc");
  assert.deepEqual([nd.holds, nd.seedsAgree, nd.seeds], [true, 1, 2]); // 0.955 vs 0.935; seed 0 disagrees
  assert.equal(nd.withinNoise, true);
  assert.deepEqual([find(res, "no-kl-auroc").holds, find(res, "no-kl-auroc").seedsAgree], [true, 2]);
  assert.deepEqual([find(res, "no-reconstruction-auroc").holds, find(res, "no-reconstruction-auroc").seedsAgree], [
    true,
    2,
  ]);
  const nr = find(res, "no-reconstruction-macroF1");
  assert.deepEqual([nr.holds, nr.seedsAgree], [false, 0]);
  close(nr.delta, -0.02);
  assert.equal(find(res, "latent-only-macroF1").holds, true);
  // No faithful row enters an ablation claim.
  for (const c of res.filter((c) => /^(no-|latent)/.test(c.id))) assert.match(c.after + c.before, /clean/);
  // 6 claims × 2 metrics + the faithful one, one setting.
  assert.equal(res.length, 13);
});

Deno.test("VMDLS_CLAIMS: each setting (ID dataset) is checked apart; a side without rows is skipped", () => {
  const res = evaluateClaims([...MNIST, ...OPEN], VMDLS_CLAIMS);
  const open = res.filter((c) => c.setting === "mnist:0-5 · mnist_conv");
  assert.deepEqual(open.map((c) => c.id).sort(), ["ce-best-clean-auroc", "ce-best-clean-macroF1"]);
  const a = find(res, "ce-best-clean-auroc", "mnist:0-5 · mnist_conv");
  assert.deepEqual([a.holds, a.seedsAgree, a.seeds, a.withinNoise], [false, 0, 1, null]);
  close(a.afterMean, 0.80);
  assert.equal(find(res, "ce-best-clean-macroF1", "mnist:0-5 · mnist_conv").holds, true);
});

const CFG: Pick<VmdlsConfig, "methods" | "variants" | "scoreAblations" | "settings"> = REFERENCE;

Deno.test("vmdlsClaims() keeps the claims the config can answer", () => {
  assert.equal(VMDLS_MNIST_TRAIN.epochs, 500);
  assert.deepEqual(vmdlsClaims(CFG).map((c) => c.id), VMDLS_CLAIMS.map((c) => c.id));
  const ids = (cfg: typeof CFG) => vmdlsClaims(cfg).map((c) => c.id);
  assert.deepEqual(ids({ ...CFG, methods: ["vmdls", "ce"] }).filter((i) => /no-(kl|distancing)/.test(i)), []);
  assert.deepEqual(ids({ ...CFG, variants: ["clean"] }).filter((i) => i.includes("faithful")), []);
  assert.deepEqual(ids({ ...CFG, variants: ["faithful"] }), ["ce-best-faithful-auroc"]);
  const noRecon = { ...CFG, settings: [{ ...CFG.settings[0]!, reconstruction: false }] };
  assert.deepEqual(ids(noRecon).filter((i) => i.startsWith("no-reconstruction")), []);
  assert.deepEqual(
    ids({ ...CFG, scoreAblations: { noReconstruction: false, latentOnly: false } })
      .filter((i) => /reconstruction|latent/.test(i)),
    [],
  );
  assert.equal(ids({ ...CFG, methods: ["vmdls", "noKl"] }).some((i) => i.startsWith("ce-")), false);
});
