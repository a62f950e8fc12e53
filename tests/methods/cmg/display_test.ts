import assert from "node:assert/strict";
import type { CmgMethod, CmgSetting } from "@lib/methods/cmg/config.ts";
import {
  galleryFigure,
  partitionBarChart,
  partitionTable,
  pngDataUrl,
  runsTable,
  scoreHistograms,
  setting2Table,
  stage2CurvesFigure,
} from "@lib/methods/cmg/display.ts";
import type { CmgGallery, CmgRun } from "@lib/methods/cmg/run.ts";
import type { ResultRow } from "@lib/report/results.ts";
import { decode } from "fast-png";
import { row } from "../../report/_fixtures.ts";

/**
 * CMG-e (faithful): partition 1 AUROC 0.90 / 0.94, partition 2 0.80 / 0.84 (seeds 0 / 1). CE + Energy: partition 1
 * 0.70 / 0.70, partition 2 only seed 0 (0.60). A second FPR rule with other numbers, and a row without a partition.
 */
function rows(): ResultRow[] {
  const r = (label: string, score: string, p: number, seed: number, auroc: number, fprRule = "sklearn") =>
    row({
      paper: "cmg",
      method: score === "cmgE" ? "cmgE" : "ce",
      label,
      score,
      idDataset: `mnist:p${p}`,
      oodDataset: `mnist:p${p}:unseen`,
      seed,
      fprRule,
    }, { auroc, fpr95: 1 - auroc });
  return [
    r("CMG-e (faithful)", "cmgE", 1, 0, 0.9),
    r("CMG-e (faithful)", "cmgE", 1, 1, 0.94),
    r("CMG-e (faithful)", "cmgE", 2, 0, 0.8),
    r("CMG-e (faithful)", "cmgE", 2, 1, 0.84),
    r("CE + Energy", "energy", 1, 0, 0.7),
    r("CE + Energy", "energy", 1, 1, 0.7),
    r("CE + Energy", "energy", 2, 0, 0.6),
    r("CE + Energy", "energy", 2, 0, 0.1, "hendrycks"),
    row({ label: "CE + Energy", score: "energy", idDataset: "mnist", oodDataset: "x", seed: 0 }, { auroc: 0 }),
  ];
}

const text = (c: unknown) => (c as { text: string }).text;
const title = (c: unknown) => (c as { title: string }).title;

Deno.test("partitionTable() has one row per (label, score), one column per partition and Mean", () => {
  const t = partitionTable(rows());
  assert.deepEqual(t.columns.map((c) => c.key), ["label", "score", "p1", "p2", "mean"]);
  assert.equal(t.rows.length, 2);
  const [cmg, ce] = t.rows;
  assert.deepEqual([cmg!.label, cmg!.score, ce!.label, ce!.score], [
    "CMG-e (faithful)",
    "CMG-e score",
    "CE + Energy",
    "Energy",
  ]);
  // 0.90 / 0.94: mean 92.0, sample std 0.04/√2 = 2.8; 0.80 / 0.84: 82.0 ± 2.8.
  assert.equal(text(cmg!.p1), "92.0 ± 2.8");
  assert.equal(title(cmg!.p1), "2 of 2 seed(s)");
  assert.equal(text(cmg!.p2), "82.0 ± 2.8");
  // Per seed over the partitions: 0.85 and 0.89 → 87.0 ± 2.8.
  assert.equal(text(cmg!.mean), "87.0 ± 2.8");
  assert.equal(text(ce!.p1), "70.0 ± 0.0");
  assert.deepEqual(ce!.p2, { text: "60.0", title: "1 of 1 seed(s)" }, "the hendrycks row is not used");
  // Seed 0: (0.7 + 0.6) / 2; seed 1 lacks partition 2.
  assert.deepEqual(ce!.mean, { text: "65.0", title: "1 of 2 seed(s)" });
  const s = t.toText();
  assert.match(s, /OOD-positive AUROC/);
  assert.match(s, /1 row\(s\) without a partition/);
});

Deno.test("setting2Table() has one column per OOD set and their mean, from the rows without a partition", () => {
  const r = (label: string, score: string, ood: string, seed: number, auroc: number) =>
    row({ paper: "cmg", label, score, idDataset: "cifar10", oodDataset: ood, seed }, { auroc, fpr95: 1 - auroc });
  const t = setting2Table([
    ...rows(),
    r("CMG-e (faithful)", "cmgE", "svhn", 0, 0.9),
    r("CMG-e (faithful)", "cmgE", "svhn", 1, 0.8),
    r("CMG-e (faithful)", "cmgE", "cifar100", 0, 0.7),
    r("CMG-e (faithful)", "cmgE", "cifar100", 1, 0.6),
    r("CE + MSP", "msp", "svhn", 0, 0.5),
  ]);
  assert.deepEqual(t.columns.map((c) => c.label), ["Method", "Score", "x", "svhn", "cifar100", "Mean"]);
  const cmg = t.rows.find((x) => x.label === "CMG-e (faithful)")!;
  assert.equal(text(cmg.o1), "85.0 ± 7.1");
  assert.equal(text(cmg.o2), "65.0 ± 7.1");
  // Per seed over the sets (the "x" set of rows() has only an Energy row): NaN for CMG-e → no mean.
  assert.equal(text(cmg.mean), "—");
  const only = setting2Table([
    r("CMG-e (faithful)", "cmgE", "svhn", 0, 0.9),
    r("CMG-e (faithful)", "cmgE", "cifar100", 0, 0.7),
  ]);
  assert.equal(text(only.rows[0]!.mean), "80.0");
  const none = setting2Table(rows().slice(0, 4));
  assert.equal(none.rows.length, 0);
  assert.match(none.toText(), /No Setting-2 row in this run/);
});

Deno.test("partitionTable() shows FPR95 and adds an ID column with several ID datasets", () => {
  const fpr = partitionTable(rows(), { metric: "fpr95" });
  assert.equal(text(fpr.rows[0]!.p1), "8.0 ± 2.8");
  assert.match(fpr.options.caption!, /FPR95/);
  const more = [
    ...rows(),
    row({ label: "CE + Energy", score: "energy", idDataset: "cifar10:p1", oodDataset: "u", seed: 0 }),
  ];
  const t = partitionTable(more);
  assert.equal(t.columns[0]!.key, "id");
  assert.equal(t.rows.length, 3);
  assert.equal(partitionTable([]).rows.length, 0);
});

Deno.test("partitionBarChart() draws one bar per (line, partition or Mean) and error bars where a std exists", () => {
  const f = partitionBarChart(rows());
  assert.match(f.html, /<svg/);
  const bars = f.html.match(/aria-label="bar"[^]*?(aria-label=|$)/)?.[0] ?? "";
  // CMG-e: p1, p2, Mean; CE + Energy: p1, p2 (one seed), Mean (one seed).
  assert.equal(bars.match(/<rect /g)?.length, 6);
  const rules = f.html.match(/aria-label="rule"[^]*?(aria-label=|$)/)?.[0] ?? "";
  // CMG-e's three, and CE + Energy's partition 1 (std 0); none with one seed.
  assert.equal(rules.match(/<line /g)?.length, 4);
  assert.match(partitionBarChart([]).html, /No result row with a partition/);
});

const SETTINGS: CmgSetting[] = [1, 2].map((p) => ({
  setting: 1,
  idDataset: "mnist",
  partition: p as 1 | 2,
  backbone: "cmg_cnn",
  width: 1,
}));

const LABELS: Record<CmgMethod, string> = {
  ce: "Stage-1 classifier",
  cmgS: "CMG-s",
  cmgE: "CMG-e",
  cmgSingle: "CMG-e, one class embedding",
  cmgSigma1: "CMG-e, σ = 1",
};

/** Two images per row; pixel i of an image is i / 783 (row r adds nothing: the rows differ by name only). */
function gallery(n = 2): CmgGallery {
  const images = () => Float32Array.from({ length: n * 784 }, (_, i) => (i % 784) / 783);
  return {
    real: images(),
    reconstructed: images(),
    conditional: images(),
    mixedSigma1: images(),
    mixed: images(),
    unseen: images(),
    unseenName: "mnist:p1:unseen",
    n,
    shape: [28, 28, 1],
    sigma: 3,
  };
}

const SETS = { id: Float32Array.from([3, 2, 1, 2.5]), ood: { "mnist:p1:unseen": Float32Array.from([0, 1.5]) } };

function run(method: CmgMethod, settingIndex: number, seed: number, withGallery = false): CmgRun {
  const ce = method === "ce";
  const curve = ce ? [] : [20, 40, 60].map((step, i) => ({ step, auroc: [0.8, 0.9, 0.85][i]! + seed / 100 }));
  return {
    setting: SETTINGS[settingIndex]!,
    settingIndex,
    seed,
    variant: "none",
    method,
    rows: [],
    seconds: 12.34,
    result: {
      label: LABELS[method],
      curve,
      losses: [],
      best: ce ? null : { step: 40, auroc: 0.9 + seed / 100 },
      margins: method === "cmgE" ? { mIn: -7.5, mOut: -2.25 } : null,
      scores: ce
        ? { none: { msp: SETS, energy: SETS } }
        : method === "cmgE"
        ? { faithful: { cmgE: SETS }, clean: { cmgE: SETS } }
        : { clean: { cmgS: SETS } },
      stage1: ce
        ? {
          classifierCurve: [{ epoch: 0, loss: 1, accuracy: 0.5 }, { epoch: 1, loss: 0.5, accuracy: 0.9876 }],
          cvaeCurve: [{ loss: 30, kl: 5, recon: 25 }, { loss: 20.5, kl: 4, recon: 16.5 }],
          seconds: 5.55,
        }
        : null,
      gallery: withGallery ? gallery() : null,
      seconds: 12.34,
    },
  };
}

/** 2 partitions × 2 seeds × (ce, cmgE, cmgS); the first ce run has the gallery. */
function runs(): CmgRun[] {
  return [0, 1].flatMap((s) =>
    [0, 1].flatMap((seed) => [
      run("ce", s, seed, s === 0 && seed === 0),
      run("cmgE", s, seed),
      run("cmgS", s, seed),
    ])
  );
}

Deno.test("runsTable() has one row per run with stage 1 on the ce rows and margins on CMG-e", () => {
  const t = runsTable(runs());
  assert.equal(t.rows.length, 12);
  assert.equal(t.columns.length, 13);
  assert.deepEqual(t.rows[0], {
    setting: "mnist-p1-cmg_cnn-w1",
    seed: "0",
    run: "Stage-1 classifier",
    seconds: "12.3",
    stage1: "5.5",
    accuracy: "98.76",
    cvae: "20.500",
    evals: "—",
    bestStep: "—",
    best: "—",
    last: "—",
    mIn: "—",
    mOut: "—",
  });
  const e = t.rows[4]!;
  assert.deepEqual([e.setting, e.seed, e.run, e.stage1, e.evals, e.bestStep, e.best, e.last, e.mIn, e.mOut], [
    "mnist-p1-cmg_cnn-w1",
    "1",
    "CMG-e",
    "—",
    "3",
    "40",
    "91.00",
    "86.00",
    "-7.500",
    "-2.250",
  ]);
  assert.equal(t.rows[2]!.mIn, "—", "CMG-s has no margins");
});

Deno.test("stage2CurvesFigure() draws one line per CMG run and a dot at each best step", () => {
  const f = stage2CurvesFigure(runs(), { setting: 1, seed: 1 });
  assert.match(f.html, /<svg/);
  assert.match(f.html, /mnist-p2-cmg_cnn-w1, seed 1/);
  const lines = f.html.match(/aria-label="line"[^]*?(aria-label=|$)/)?.[0] ?? "";
  assert.equal(lines.match(/<path /g)?.length, 2, "CMG-e and CMG-s");
  const dots = f.html.match(/aria-label="dot"[^]*?(aria-label=|$)/)?.[0] ?? "";
  assert.equal(dots.match(/<circle /g)?.length, 2);
  assert.match(stage2CurvesFigure([run("ce", 0, 0)]).html, /No stage-2 evaluations/);
  assert.throws(() => stage2CurvesFigure(runs(), { seed: 7 }), /no run of setting 0, seed 7/);
  assert.throws(() => stage2CurvesFigure([]), /no runs/);
});

Deno.test("galleryFigure() renders six labelled rows of n PNG images, or says there is no gallery", () => {
  const f = galleryFigure(runs());
  assert.equal(f.html.match(/<img /g)?.length, 12, "6 rows × 2 images");
  for (const label of ["Real ID test", "CVAE reconstructions", "σ = 1", "σ = 3", "Real unseen-class"]) {
    assert.match(f.html, new RegExp(label));
  }
  assert.match(f.html, /src="data:image\/png;base64,/);
  assert.match(galleryFigure(runs().slice(3)).html, /No gallery/);
});

Deno.test("pngDataUrl() encodes [0, 1] grayscale and RGB images as 8-bit PNGs, clamped, and refuses 2 channels", () => {
  const read = (url: string) => decode(Uint8Array.from(atob(url.split(",")[1]!), (c) => c.charCodeAt(0)));
  const gray = read(pngDataUrl([0, 0.5, 1, 2], [2, 2, 1]));
  assert.deepEqual([gray.width, gray.height, gray.channels], [2, 2, 1]);
  assert.deepEqual([...gray.data], [0, 128, 255, 255]);
  // 1 row × 2 columns of RGB: a red pixel, then a (−1 → 0, 0.25 → 64, 1) pixel.
  const rgb = read(pngDataUrl([1, 0, 0, -1, 0.25, 1], [1, 2, 3]));
  assert.deepEqual([rgb.width, rgb.height, rgb.channels], [2, 1, 3]);
  assert.deepEqual([...rgb.data], [255, 0, 0, 0, 64, 255]);
  assert.throws(() => pngDataUrl([0, 0], [1, 1, 2]), /1 or 3 channels, got 2/);
});

Deno.test("galleryFigure() names a Setting-2 gallery's OOD row after its set and draws RGB images", () => {
  const all = runs();
  const g = all[0]!.result.gallery!;
  const n = 2, per = 32 * 32 * 3;
  const rgb = () => Float32Array.from({ length: n * per }, (_, i) => (i % per) / per);
  all[0]!.result.gallery = {
    ...g,
    real: rgb(),
    reconstructed: rgb(),
    conditional: rgb(),
    mixedSigma1: rgb(),
    mixed: rgb(),
    unseen: rgb(),
    unseenName: "svhn",
    shape: [32, 32, 3],
  };
  const f = galleryFigure(all);
  assert.equal(f.html.match(/<img /g)?.length, 12);
  assert.match(f.html, /Real OOD images \(svhn\)/);
  assert.match(f.html, /width="64" height="64"/);
});

Deno.test("scoreHistograms() shows every run's scores of the cell: CMG under the variant, ce under none", () => {
  const f = scoreHistograms(runs());
  assert.match(f.html, /Stage-1 classifier: MSP \(none\)/);
  assert.match(f.html, /Stage-1 classifier: Energy \(none\)/);
  assert.match(f.html, /CMG-e: CMG-e score \(faithful\)/);
  assert.equal(f.html.match(/<figure/g)?.length, 3, "one panel per (run, score)");
  assert.match(f.html, /No scores of CMG-s \(faithful\)/);
  const clean = scoreHistograms(runs(), { variant: "clean" });
  assert.equal(clean.html.match(/<figure/g)?.length, 4);
  const none = scoreHistograms([run("cmgS", 0, 0)]);
  assert.match(none.html, /nothing to show/);
});
