import assert from "node:assert/strict";
import type { ElocMethod, ElocSetting } from "@lib/methods/eloc/config.ts";
import {
  entropyMarginFigure,
  epsilonSweepFigure,
  foldCurvesFigure,
  odinSuiteTable,
  paperVsOursTable,
  pickRun,
  runsTable,
  scoreHistograms,
} from "@lib/methods/eloc/display.ts";
import type { ElocFoldResult, ElocRun, ElocSuiteRow } from "@lib/methods/eloc/run.ts";
import type { ScoreSets } from "@lib/experiment/score.ts";
import { loadPaperNumbers, type PaperNumbers } from "@lib/report/paper_numbers.ts";

const SETTING: ElocSetting = { idDataset: "cifar10", backbone: "densenet_bc_100", width: 1, epsilon: 0.0014 };

const LABELS: Record<ElocMethod, string> = { eloc: "ELOC", elocCe: "ELOC w/o margin-entropy", ce: "CE" };

const SCORES: Record<ElocMethod, string[]> = {
  eloc: ["eloc", "elocEntropy", "elocSingle", "elocNoPerturbation"],
  elocCe: ["eloc"],
  ce: ["msp", "odin"],
};

const VARIANTS = ["faithful", "clean"] as const;

/** ID scores above every tin_crop score; uniform overlaps (AUROC 3/8). */
const SETS: ScoreSets = {
  id: Float32Array.from([0.9, 0.8, 0.7, 0.6]),
  ood: { tin_crop: Float32Array.from([0.1, 0.2]), uniform: Float32Array.from([0.65, 0.95]) },
};

/** One suite row; detection error = FPR95 / 2 (NaN: 0.05), both AUPRs = AUROC. */
function suiteRow(variant: "faithful" | "clean", score: string, ood: string, fpr: number, auroc: number): ElocSuiteRow {
  return {
    variant,
    score,
    oodDataset: ood,
    fpr95: fpr,
    detectionError: Number.isNaN(fpr) ? 0.05 : fpr / 2,
    auroc,
    auprIn: auroc,
    auprOut: auroc,
  };
}

/**
 * The suite of one run. The faithful `eloc` score of the ELOC training: tin_crop FPR95 2 % / 4 % and AUROC 99 % /
 * 97 % (seeds 0 / 1); uniform FPR95 NaN / 10 % and AUROC 95 % / 93 %. Every other row: FPR95 50 %, AUROC 60 %.
 */
function suite(method: ElocMethod, seed: number): ElocSuiteRow[] {
  return VARIANTS.flatMap((v) =>
    SCORES[method].flatMap((score) => {
      if (method === "eloc" && v === "faithful" && score === "eloc") {
        return [
          suiteRow(v, score, "tin_crop", seed === 0 ? 0.02 : 0.04, seed === 0 ? 0.99 : 0.97),
          suiteRow(v, score, "uniform", seed === 0 ? NaN : 0.1, seed === 0 ? 0.95 : 0.93),
        ];
      }
      return ["tin_crop", "uniform"].map((ood) => suiteRow(v, score, ood, 0.5, 0.6));
    })
  );
}

/** Three epochs of one classifier; fold k keeps epoch (k + 2) mod 3 (faithful) and the last (clean). */
function fold(k: number, ce: boolean): ElocFoldResult {
  return {
    fold: k,
    leftOut: ce ? [] : [2 * k - 2, 2 * k - 1],
    curve: [0, 1, 2].map((epoch) => ({
      epoch,
      loss: 2 - epoch / 2,
      ce: 2 - epoch / 2,
      entropyId: 1 - epoch / 4,
      entropyOod: ce ? NaN : 1 + epoch / 4,
      accuracy: 0.5 + epoch / 10,
      lr: 0.1,
      seconds: 1,
      validationSeconds: 0.1,
      validation: { faithful: 0.7 + epoch / 20 + k / 100, clean: 0.6 + epoch / 20 },
    })),
    selected: { faithful: { epoch: (k + 2) % 3, auroc: 0.8 }, clean: { epoch: 2, auroc: 0.7 } },
    steps: 10,
    seconds: 3,
  };
}

function run(method: ElocMethod, seed: number, sweep = true): ElocRun {
  const ce = method === "ce";
  return {
    setting: SETTING,
    settingIndex: 0,
    seed,
    variant: "none",
    method,
    rows: [],
    seconds: 20,
    result: {
      label: LABELS[method],
      folds: ce ? [fold(0, true)] : [1, 2, 3, 4, 5].map((k) => fold(k, false)),
      scores: Object.fromEntries(VARIANTS.map((v) => [v, Object.fromEntries(SCORES[method].map((s) => [s, SETS]))])),
      idAccuracy: { faithful: 0.935, clean: 0.9 },
      suite: suite(method, seed),
      sweep: method === "eloc" && seed === 0 && sweep ? [0, 0.002].map((epsilon) => ({ epsilon, sets: SETS })) : [],
      trainSeconds: 15.25,
      evalSeconds: 4.5,
    },
  };
}

/** Two seeds × the three trainings. */
function runs(): ElocRun[] {
  return [0, 1].flatMap((seed) => (["eloc", "elocCe", "ce"] as const).map((m) => run(m, seed)));
}

/** The `<circle>` marks of a figure's SVG. */
function circles(html: string): number {
  return html.match(/<circle /g)?.length ?? 0;
}

Deno.test("pickRun() finds the first seed's eloc run, or names the runs there are", () => {
  const rs = runs();
  assert.equal(pickRun(rs), rs[0]);
  assert.equal(pickRun(rs, { seed: 1 }), rs[3]);
  assert.equal(pickRun(rs, { method: "ce" }), rs[2]);
  assert.equal(pickRun(rs, { seed: 1, method: "elocCe" }), rs[4]);
  assert.throws(() => pickRun([]), /pickRun: no runs/);
  assert.throws(
    () => pickRun(rs, { seed: 7 }),
    /no run of setting 0, seed 7, training eloc\. Runs: setting 0 \(cifar10-densenet_bc_100-w1\) · seed 0 · eloc; /,
  );
  assert.throws(() => pickRun(rs.slice(1, 3)), /training eloc\. Runs: .*seed 0 · elocCe; .*seed 0 · ce$/);
});

Deno.test("runsTable() has one row per run with the selected epochs and ID accuracy of each variant", () => {
  const t = runsTable(runs());
  assert.deepEqual(t.columns.map((c) => c.key), [
    "setting",
    "seed",
    "training",
    "classifiers",
    "steps",
    "train",
    "evals",
    "selected_faithful",
    "selected_clean",
    "accuracy_faithful",
    "accuracy_clean",
  ]);
  assert.equal(t.rows.length, 6);
  assert.deepEqual(t.rows[0], {
    setting: "cifar10-densenet_bc_100-w1",
    seed: "0",
    training: "ELOC",
    classifiers: "5",
    steps: "50",
    train: "15.3",
    evals: "4.5",
    selected_faithful: "1, 2, 3, 1, 2",
    selected_clean: "3, 3, 3, 3, 3",
    accuracy_faithful: "93.5",
    accuracy_clean: "90.0",
  });
  assert.deepEqual(
    [t.rows[5]!.seed, t.rows[5]!.training, t.rows[5]!.classifiers, t.rows[5]!.steps, t.rows[5]!.selected_faithful],
    ["1", "CE", "1", "10", "3"],
  );
});

Deno.test("odinSuiteTable() gives mean ± std over seeds, an Average row per group, and counts NaN FPR95", () => {
  const t = odinSuiteTable(runs(), { variant: "faithful" });
  // 4 ELOC scores + 1 ablation score + MSP and ODIN, each 2 OOD sets + Average.
  assert.equal(t.rows.length, 7 * 3);
  assert.equal(t.options.caption, "The ODIN/ELOC metric suite (faithful variant)");
  const [tin, uniform, average] = [0, 1, 2].map((i) => (k: string) => t.cell(i, k));
  assert.deepEqual([t.rows[0]!.training, t.rows[0]!.score, t.rows[0]!.ood], [
    "ELOC",
    "ensemble (CE perturbation)",
    "tin_crop",
  ]);
  // FPR95 2 and 4: mean 3.00, sample std √2 = 1.41; AUROC 99 and 97: 98.00 ± 1.41.
  assert.deepEqual(tin!("fpr95"), { text: "3.00 ± 1.41", title: "2 of 2 seed(s)" });
  assert.equal(tin!("auroc").text, "98.00 ± 1.41");
  assert.equal(tin!("detectionError").text, "1.50 ± 0.71");
  // uniform: seed 0's FPR95 is NaN, left out and counted.
  assert.deepEqual(uniform!("fpr95"), { text: "10.00", title: "1 of 2 seed(s)" });
  assert.equal(uniform!("auroc").text, "94.00 ± 1.41");
  // Average: per seed over the OOD sets (seed 0: NaN; seed 1: (4 + 10) / 2 = 7), then over seeds.
  assert.equal(t.rows[2]!.ood, "Average");
  assert.deepEqual(average!("fpr95"), { text: "7.00", title: "1 of 2 seed(s)" });
  // AUROC per seed: 97 and 95, then 96.00 ± 1.41.
  assert.equal(average!("auroc").text, "96.00 ± 1.41");
  assert.ok(t.options.emphasis?.has(2) && t.options.groupStarts?.has(3));
  assert.deepEqual(t.rows.filter((r) => r.ood === "Average").map((r) => r.score), [
    "ensemble (CE perturbation)",
    "ensemble (entropy perturbation)",
    "one leave-out classifier",
    "ensemble, ε = 0",
    "ensemble (CE perturbation)",
    "MSP",
    "ODIN",
  ]);
  assert.match(t.toText(), /TPR ∈ \[0\.9495, 0\.9505\]/);
  assert.match(t.toText(), /rectangle-sum AUROC/);
  const clean = odinSuiteTable(runs(), { variant: "clean" });
  assert.equal(clean.cell(0, "fpr95").text, "50.00 ± 0.00");
});

Deno.test("paperVsOursTable() reads paper / re-impl. / ours and says where a setting was not run", async () => {
  const paper = await loadPaperNumbers("eloc");
  const t = paperVsOursTable(runs(), paper);
  assert.equal(t.rows.length, 24, "16 README rows and 8 Uniform / Gaussian rows");
  assert.match(t.options.caption!, /^Paper vs ours: Vyas, Jammalamadaka et al\./);
  const at = (backbone: string, id: string, ood: string) =>
    t.rows.findIndex((r) => r.backbone === backbone && r.idDataset === id && r.oodDataset === ood);
  const tin = at("densenet_bc_100", "cifar10", "tin_crop");
  assert.equal(t.cell(tin, "fpr95").text, "1.23 / 1.48 / 3.00 ± 1.41");
  assert.equal(t.cell(tin, "auroc").text, "99.65 / 99.66 / 98.00 ± 1.41");
  assert.match(t.cell(tin, "fpr95").title!, /ours: 2 of 2 seed\(s\)/);
  // Uniform: only the paper's (secondhand) number; seed 0's NaN FPR95 is left out and counted.
  const uniform = at("densenet_bc_100", "cifar10", "uniform");
  assert.equal(t.cell(uniform, "fpr95").text, "2.61 / — / 10.00");
  assert.match(t.cell(uniform, "fpr95").title!, /ours: 1 of 2 seed\(s\)/);
  // A setting that ran, but not on this OOD set; and settings that did not run.
  assert.equal(t.cell(at("densenet_bc_100", "cifar10", "tin_resize"), "fpr95").text.split(" / ")[2], "—");
  assert.match(t.cell(at("wrn_28_10", "cifar100", "lsun_crop"), "auroc").text, / \/ not run here$/);
  assert.match(t.toText(), /Not run here: cifar100 \/ densenet_bc_100, cifar10 \/ wrn_28_10, cifar100 \/ wrn_28_10/);
});

Deno.test("paperVsOursTable() takes ours from the ELOC training's faithful eloc score only", () => {
  const paper: PaperNumbers = {
    paper: "eloc",
    citation: "test",
    numbers: [
      { method: "eloc", score: "eloc", backbone: "densenet_bc_100", idDataset: "cifar10", oodDataset: "tin_crop" },
      { method: "msp", backbone: "densenet_bc_100", idDataset: "cifar10", oodDataset: "svhn" },
    ].map((k) => ({ ...k, metric: "fpr95" as const, value: 0.01, source: "paper, Table 1" })),
  };
  const t = paperVsOursTable(runs(), paper);
  assert.equal(t.rows.length, 1, "numbers of other methods are not shown");
  assert.equal(t.cell(0, "fpr95").text, "1.00 / — / 3.00 ± 1.41");
  assert.equal(t.cell(0, "auroc").text, "— / — / 98.00 ± 1.41");
  assert.doesNotMatch(t.toText(), /Not run here/);
  const ceOnly = paperVsOursTable(runs().filter((r) => r.method !== "eloc"), paper);
  assert.equal(ceOnly.cell(0, "fpr95").text, "1.00 / — / not run here");
});

Deno.test("foldCurvesFigure() draws every classifier's curves and dots the selected epochs", () => {
  const rs = runs();
  const f = foldCurvesFigure(rs);
  assert.match(f.html, /<svg/);
  // 11 classifiers (5 + 5 + CE's) × 3 epochs × 3 rows (2 validation AUROCs, training accuracy), plus 11 × 2 kept.
  assert.equal(circles(f.html), 11 * 3 * 3 + 11 * 2);
  for (const s of ["validation AUROC \\(faithful\\)", "training accuracy", "fold 5", "all classes", "seed 0"]) {
    assert.match(f.html, new RegExp(s));
  }
  assert.match(foldCurvesFigure(rs, { seed: 1 }).html, /seed 1/);
  assert.throws(() => foldCurvesFigure(rs, { setting: 3 }), /no run of setting 3, seed 0/);
});

Deno.test("entropyMarginFigure() shows the two ELOC trainings' entropies, their margin and the rule at m", () => {
  const rs = runs();
  const f = entropyMarginFigure(rs, { margin: 0.3 });
  assert.match(f.html, /<svg/);
  // eloc and elocCe: 10 classifiers × 3 epochs × 3 rows (CE, whose left-out entropy is NaN, is not shown).
  assert.equal(circles(f.html), 10 * 3 * 3);
  assert.match(f.html, /m = 0\.3/);
  assert.match(f.html, /margin H̄_OOD − H̄_ID/);
  assert.doesNotMatch(f.html, /all classes/);
  const rules = f.html.match(/aria-label="rule"[^]*?(aria-label=|$)/)?.[0] ?? "";
  assert.equal(rules.match(/<line /g)?.length, 2, "one rule per training");
  assert.match(entropyMarginFigure(rs).html, /m = 0\.4/);
  const none = entropyMarginFigure(rs.filter((r) => r.method === "ce"));
  assert.match(none.html, /No ELOC training/);
});

Deno.test("scoreHistograms() renders the chosen score of the chosen variant", () => {
  const rs = runs();
  const h = scoreHistograms(rs);
  assert.match(h.html, /<svg/);
  assert.match(h.html, /ELOC, cifar10-densenet_bc_100-w1, seed 0 \(faithful\)/);
  assert.match(h.html, /ensemble \(CE perturbation\)/);
  assert.match(h.html, /tin_crop/);
  assert.match(h.html, /uniform/);
  const clean = scoreHistograms(rs, { variant: "clean", score: "elocEntropy" }).html;
  assert.match(clean, /seed 0 \(clean\)/);
  assert.match(clean, /ensemble \(entropy perturbation\)/);
  assert.match(scoreHistograms(rs, { method: "ce" }).html, /MSP/);
  assert.throws(() => scoreHistograms(rs, { score: "odin" }), /no score odin \(faithful\); it has eloc, elocEntropy/);
});

Deno.test("epsilonSweepFigure() draws AUROC and FPR95 against ε per OOD set and their mean", () => {
  const rs = runs();
  const f = epsilonSweepFigure(rs);
  assert.match(f.html, /<svg/);
  // 2 ε × (2 OOD sets + mean) × 2 metrics.
  assert.equal(circles(f.html), 12);
  for (const s of ["AUROC", "FPR95 \\(sklearn\\)", "tin_crop", "uniform", "mean"]) assert.match(f.html, new RegExp(s));
  assert.match(epsilonSweepFigure(rs, { fprRule: "hendrycks" }).html, /FPR95 \(hendrycks\)/);
  const none = epsilonSweepFigure(rs, { seed: 1 });
  assert.doesNotMatch(none.html, /<svg/);
  assert.match(none.html, /No ε sweep in ELOC, cifar10-densenet_bc_100-w1, seed 1/);
});
