import assert from "node:assert/strict";
import type { VmdlsMethod, VmdlsSetting } from "@lib/methods/vmdls/config.ts";
import {
  clusterSeparation,
  gaussianSeparationTable,
  latentFigure,
  pickRun,
  referenceMetricsTable,
  runsTable,
  scoreHistograms,
  setsNote,
  trainingCurvesFigure,
} from "@lib/methods/vmdls/display.ts";
import type { VmdlsReferenceMetrics, VmdlsRun } from "@lib/methods/vmdls/run.ts";

const SETTING: VmdlsSetting = {
  idDataset: "mnist",
  backbone: "mnist_conv",
  width: 1,
  latentDim: 2,
  classNum: null,
  reconstruction: false,
};

const LABELS: Record<VmdlsMethod, string> = {
  vmdls: "VMDLS",
  noDistancing: "VMDLS w/o distancing",
  noKl: "VMDLS w/o KL",
  ce: "CE",
};

/** Two classes at (0, 0) and (4, 0) (±1 along y), and one OOD set at (2, 5). */
const EMBEDDING = {
  dim: 2,
  id: Float32Array.from([0, 1, 0, -1, 4, 1, 4, -1]),
  idLabels: Int32Array.from([0, 0, 1, 1]),
  ood: { noise: Float32Array.from([2, 5, 2, 6]) },
};

function reference(score: string, ood: string, fpr: number, f1: number): VmdlsReferenceMetrics {
  return {
    variant: "faithful",
    score,
    oodDataset: ood,
    gridFpr95: fpr,
    gridAuroc: 1 - fpr,
    cauroc: 0.5,
    bestMacroF1: f1,
    bestThreshold: -10,
  };
}

function run(method: VmdlsMethod, seed: number, refs: VmdlsReferenceMetrics[] = []): VmdlsRun {
  const ce = method === "ce";
  const curve = [0, 1].map((epoch) =>
    ce ? { epoch, loss: 2 - epoch } : {
      epoch,
      loss: 3 - epoch,
      triplet: 2 - epoch,
      kl: 1 - epoch / 2,
      distancingMargin: 0.5 + epoch,
      lr: 0.01,
      seconds: 1,
    }
  );
  const sets = { id: Float32Array.from([-1, -2, -3]), ood: { noise: Float32Array.from([-10, -20]) } };
  return {
    setting: SETTING,
    settingIndex: 0,
    seed,
    variant: ce ? "none" : "faithful",
    method,
    rows: [],
    seconds: 3,
    result: {
      label: LABELS[method],
      curve,
      steps: 20,
      trainSeconds: 1.25,
      idAccuracy: 0.975,
      scores: { vmdls: ce ? { none: sets } : { faithful: sets, clean: sets } },
      embedding: EMBEDDING,
      reference: refs,
      gaussians: ce ? null : { steps: 1, dim: 12 },
      evalSeconds: 0.5,
    },
  };
}

function runs(): VmdlsRun[] {
  return [
    run("vmdls", 0, [reference("vmdls", "noise", 0.2, 0.8), reference("vmdls", "svhn", NaN, 0.7)]),
    run("noKl", 0),
    run("ce", 0),
    run("vmdls", 1, [reference("vmdls", "noise", 0.4, 0.9), reference("vmdls", "svhn", NaN, 0.6)]),
  ];
}

Deno.test("runsTable() has one row per run with the VMDLS terms of the last epoch and — for CE", () => {
  const t = runsTable(runs());
  assert.deepEqual(t.columns.map((c) => c.key), [
    "setting",
    "seed",
    "training",
    "steps",
    "train",
    "evals",
    "loss",
    "margin",
    "kl",
    "accuracy",
    "jitter",
    "dim",
  ]);
  assert.equal(t.rows.length, 4);
  assert.deepEqual(t.rows[0], {
    setting: "mnist-mnist_conv-w1",
    seed: "0",
    training: "VMDLS",
    steps: "20",
    train: "1.3",
    evals: "0.5",
    loss: "2.000",
    margin: "1.500",
    kl: "0.500",
    accuracy: "97.50",
    jitter: "1",
    dim: "12",
  });
  assert.deepEqual([t.rows[2]!.training, t.rows[2]!.loss, t.rows[2]!.margin, t.rows[2]!.kl, t.rows[2]!.jitter], [
    "CE",
    "1.000",
    "—",
    "—",
    "—",
  ]);
});

Deno.test("referenceMetricsTable() averages the reference's metrics over seeds and shows — where the grid is NaN", () => {
  const t = referenceMetricsTable(runs());
  assert.equal(t.rows.length, 2, "one row per (setting, training, score, OOD set)");
  const [noise, svhn] = t.rows as Record<string, { text: string; title?: string } | string>[];
  assert.deepEqual([noise!.training, noise!.score, noise!.ood], ["VMDLS", "VMDLS score", "noise"]);
  // FPR 0.2 and 0.4: mean 30.0, sample std 14.1; F1 0.8 and 0.9: 85.0 ± 7.1.
  assert.equal((noise!.gridFpr95 as { text: string }).text, "30.0 ± 14.1");
  assert.equal((noise!.gridAuroc as { text: string }).text, "70.0 ± 14.1");
  assert.equal((noise!.cauroc as { text: string }).text, "50.0 ± 0.0");
  assert.equal((noise!.bestMacroF1 as { text: string }).text, "85.0 ± 7.1");
  assert.deepEqual(svhn!.gridFpr95, { text: "—", title: "0 of 2 seed(s)" });
  assert.equal((svhn!.bestMacroF1 as { text: string }).text, "65.0 ± 7.1");
  assert.match(t.toText(), /100 000-point geometric threshold grid/);
});

Deno.test("pickRun() finds the first seed's vmdls run, else the first run of that cell", () => {
  const rs = runs();
  assert.equal(pickRun(rs), rs[0]);
  assert.equal(pickRun(rs, { seed: 1 }), rs[3]);
  assert.equal(pickRun(rs, { method: "ce" }), rs[2]);
  assert.equal(pickRun(rs.slice(1, 3)), rs[1], "no vmdls run: the first run");
  assert.throws(() => pickRun([]), /no runs/);
});

Deno.test("clusterSeparation() measures within-class spread and the distance between class means", () => {
  // Class means (0, 0) and (4, 0); every point 1 away from its mean.
  const s = clusterSeparation(EMBEDDING.id, 2, EMBEDDING.idLabels);
  assert.deepEqual(s, { within: 1, between: 4, ratio: 4 });
  assert.throws(() => clusterSeparation(EMBEDDING.id, 3, EMBEDDING.idLabels), /8 values for 4 × 3/);
});

Deno.test("gaussianSeparationTable() has one row per VMDLS training of the first seed", () => {
  const t = gaussianSeparationTable(runs());
  assert.deepEqual(t.rows.map((r) => [r.training, r.within, r.between, r.ratio]), [
    ["VMDLS", "1.000", "4.000", "4.00"],
    ["VMDLS w/o KL", "1.000", "4.000", "4.00"],
  ]);
});

Deno.test("latentFigure(), scoreHistograms() and trainingCurvesFigure() render SVG", async () => {
  const rs = runs();
  const latent = latentFigure(rs);
  assert.match(latent.html, /<svg/);
  assert.equal(latent.html.match(/<circle /g)?.length, 6, "4 ID and 2 OOD points");
  assert.match(latent.html, /ID: class 1/);
  assert.match(latent.html, /OOD: noise/);
  assert.match(latentFigure(rs, { method: "ce" }).html, /PCA of g: CE/);
  const hist = scoreHistograms(rs);
  assert.match(hist.html, /<svg/);
  assert.match(hist.html, /\(clean\)/);
  assert.match(scoreHistograms(rs, { method: "ce" }).html, /\(none\)/);
  const curves = await trainingCurvesFigure(rs);
  assert.match(curves.html, /<svg/);
  for (const m of ["loss", "triplet \\+ distancing", "KL", "M_t", "VMDLS w/o KL"]) {
    assert.match(curves.html, new RegExp(m));
  }
});

Deno.test("setsNote() names skipped sets, and says nothing was loaded when a released run's files are missing", () => {
  assert.match(setsNote({ skipped: ["omniglot"] }), /Skipped \(not installed\): omniglot/);
  assert.equal(setsNote({ skipped: [] }), "Every optional OOD set was installed and scored.");
  const missing = { status: "missing" as const, message: "fetch x", networks: [] };
  assert.match(setsNote({ skipped: [], released: missing }), /^Nothing was loaded or scored/);
});
