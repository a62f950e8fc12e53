import assert from "node:assert/strict";
import { evaluateClaims } from "@lib/experiment/claims.ts";
import { resultRow } from "@lib/report/results.ts";
import { elocClaims, elocVariantClaims } from "@lib/methods/eloc/claims.ts";
import type { ElocConfig } from "@lib/methods/eloc/config.ts";

const ALL = {
  methods: ["eloc", "elocCe", "ce"],
  variants: ["faithful", "clean"],
  scoreAblations: { singleMember: true, noPerturbation: true },
} as const satisfies Pick<ElocConfig, "methods" | "variants" | "scoreAblations">;

Deno.test("elocVariantClaims(): ELOC against ODIN, MSP and the plain-CE ensemble on FPR95 (ODIN rule) and AUROC, and the score ablations on AUROC", () => {
  const claims = elocVariantClaims("clean");
  assert.deepEqual(claims.map((c) => c.id), [
    "beats-odin-clean-fpr95",
    "beats-msp-clean-fpr95",
    "margin-entropy-clean-fpr95",
    "beats-odin-clean-auroc",
    "beats-msp-clean-auroc",
    "margin-entropy-clean-auroc",
    "ensemble-clean-auroc",
    "perturbation-clean-auroc",
  ]);
  for (const c of claims) {
    assert.deepEqual(c.after, { method: "eloc", variant: "clean", score: "eloc" });
    assert.equal(c.before.variant, "clean", `${c.id}: the baseline is selected the same way`);
    assert.equal(c.fprRule, "odin");
    assert.doesNotMatch(c.text, /\{/, `${c.id}: no placeholder left in "${c.text}"`);
  }
  assert.equal(claims[0]!.text, "ELOC has a lower FPR95 than ODIN on a classifier of all classes (clean)");
});

Deno.test("elocClaims() keeps only the claims the config runs", () => {
  assert.equal(elocClaims(ALL).length, 16);
  const noAblation = elocClaims({
    ...ALL,
    methods: ["eloc", "ce"],
    scoreAblations: { singleMember: false, noPerturbation: true },
  });
  assert.ok(noAblation.every((c) => c.before.method !== "elocCe" && c.before.score !== "elocSingle"));
  assert.equal(noAblation.length, 2 * 5);
  assert.deepEqual(
    elocClaims({ ...ALL, variants: ["faithful"] }).map((c) => c.after.variant),
    Array(8).fill("faithful"),
  );
  assert.deepEqual(elocClaims({ ...ALL, methods: ["ce"] }), [], "nothing to claim without the ensemble");
});

Deno.test("the ELOC claims evaluate on rows: FPR95 lower is better, by the ODIN rule only", () => {
  const key = { paper: "eloc", backbone: "lenet", idDataset: "fashion_mnist", oodDataset: "mnist" };
  const row = (method: string, score: string, seed: number, fpr95: number, fprRule: string) =>
    resultRow({ ...key, method, score, seed, variant: "clean", label: `${method}` }, {
      auroc: 0.5,
      auprIn: 0.5,
      auprOut: 0.5,
      fpr95,
      fpr95OodPositive: 0.5,
      detectionError: 0.5,
      idAccuracy: null,
      nId: 10,
      nOod: 10,
      settings: { fprRule },
    } as never);
  const rows = [
    row("eloc", "eloc", 0, 0.2, "odin"),
    row("eloc", "eloc", 1, 0.3, "odin"),
    row("ce", "odin", 0, 0.4, "odin"),
    row("ce", "odin", 1, 0.25, "odin"),
    // Our rule says the opposite: it must not be read.
    row("eloc", "eloc", 0, 0.9, "sklearn"),
    row("eloc", "eloc", 1, 0.9, "sklearn"),
    row("ce", "odin", 0, 0.1, "sklearn"),
    row("ce", "odin", 1, 0.1, "sklearn"),
  ];
  const [r] = evaluateClaims(rows, elocVariantClaims("clean").filter((c) => c.id === "beats-odin-clean-fpr95"));
  assert.equal(r!.holds, true);
  assert.ok(Math.abs(r!.delta - (0.25 - 0.325)) < 1e-12);
  assert.deepEqual([r!.seedsAgree, r!.seeds], [1, 2]);
});
