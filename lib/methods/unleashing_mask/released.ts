/**
 * The released-weights run of the Unleashing Mask notebook (`weights: "released"`, issue 17): no training. The
 * authors' DenseNet-BC-100 checkpoints (`runs/densenet_cifar{10,100}_{best,last}.state`,
 * `lib/checkpoints/released/unleashing_mask.ts`) are read by the safe reader, mapped onto our `densenet_bc_100`
 * (NonAffineBatchNorm, dropout 0.3) and scored on the paper's sets with this notebook's detectors
 * ({@linkcode umDetectors}: MSP, ODIN, Energy, Mahalanobis per variant) and metrics — the README's "Energy" row is
 * the Energy score of such a pretrained model.
 *
 * UM fine-tuning from the released model (what the authors' configs do: 100 epochs of SGD over the 50 000
 * training images of CIFAR on DenseNet-BC-100) is not offered here: on a CPU it takes days, like the training it
 * would skip; the README's "Energy+UM" row is shown as the authors' number only.
 *
 * When a weights file or a dataset is absent the run returns what to download and evaluates nothing.
 * @module
 */
import { createBackbone } from "../../backbones/mod.ts";
import { findStateDict, loadStateDict } from "../../checkpoints/load_state_dict.ts";
import { missingReleasedMessage, releasedFilePath, releasedPresent } from "../../checkpoints/released/paths.ts";
import type { ReleasedFile } from "../../checkpoints/released/types.ts";
import {
  umDenseNetMap,
  umReleasedDataset,
  UNLEASHING_MASK_RELEASED,
} from "../../checkpoints/released/unleashing_mask.ts";
import { DatasetMissingError } from "../../datasets/errors.ts";
import { type EvalSets, loadEvalSets } from "../../experiment/eval_sets.ts";
import { scoreAll } from "../../experiment/score.ts";
import { toRows } from "../../experiment/rows.ts";
import type { NetOutputs } from "../../scores/detector.ts";
import { argmaxRows, type DetectorSpec } from "../../scores/mod.ts";
import { readTorchCheckpoint } from "../../io/torch/mod.ts";
import type { ResultRow } from "../../report/results.ts";
import { Table } from "../../report/html_table.ts";
import { type Displayable, escapeHtml, htmlView } from "../../report/jupyter.ts";
import { stacked } from "../../report/score_views.ts";
import type { PaperNumbers } from "../../report/paper_numbers.ts";
import { formatNumber } from "../../report/table.ts";
import type { UmReleasedOptions, UnleashingMaskConfig, Variant } from "./config.ts";
import { UM_PAPER, umDetectors, type UmExperiment } from "./run.ts";

/** One released model that was evaluated. */
export interface UmReleasedModel {
  /** Registry id, e.g. `densenet_cifar10_last`. */
  id: string;
  /** The file read. */
  path: string;
  /** `best` (middle stage, selected on test accuracy) or `last` (final stage). */
  stage: "best" | "last";
  /** Keys of the file not loaded (`num_batches_tracked`; `scores` of subnet layers, if any). */
  ignoredKeys: number;
  /** How many of them are subnet `scores` (0 for a plain DenseNet checkpoint). */
  ignoredScores: number;
  /** Seconds to read and load the file / to score it (all variants). */
  loadSeconds: number;
  scoreSeconds: number;
}

/** What {@linkcode runUnleashingMaskReleased} returns. */
export type UmReleasedRun =
  | {
    status: "skipped";
    /** Why nothing was evaluated (the config trains its own weights). */
    message: string;
  }
  | {
    status: "missing";
    /** What to download, one line per missing weights file or dataset, with the commands. */
    message: string;
    missingFiles: string[];
    missingDatasets: string[];
  }
  | {
    status: "done";
    idDataset: string;
    options: UmReleasedOptions;
    models: UmReleasedModel[];
    /** One row per model × variant × score × OOD set (method `ce`, label `CE released <stage>`). */
    rows: ResultRow[];
    /** Set sizes, for the display. */
    sizes: { train: number; test: number; ood: Record<string, number> };
  };

/** Options of {@linkcode runUnleashingMaskReleased}. */
export interface UmReleasedRunOptions {
  /** Released-weights root (default `OOD_RELEASED_DIR` or `checkpoints/released`). */
  root?: string;
  /** Loads the sets (default: {@linkcode loadReleasedSets}). */
  load?: (cfg: UnleashingMaskConfig, released: UmReleasedOptions, idDataset: string) => Promise<EvalSets>;
}

/**
 * The sets of the released run: seeded subsets (`evalLimit`) of the ID test split and of each OOD set, squashed to
 * 32×32 as `data/OOD.py` does, and `trainLimit` training images (the Mahalanobis statistics).
 */
export function loadReleasedSets(
  cfg: UnleashingMaskConfig,
  released: UmReleasedOptions,
  idDataset: string,
): Promise<EvalSets> {
  return loadEvalSets({
    id: idDataset as UnleashingMaskConfig["idDataset"],
    trainLimit: released.trainLimit,
    heldOut: released.heldOut,
    testLimit: released.evalLimit,
    oodLimit: released.evalLimit,
    dataSeed: cfg.data.dataSeed,
    oodDatasets: released.oodDatasets,
    oodFit: "resize",
  });
}

/**
 * The detector specs of every variant in one list, each distinct spec once (Energy and ODIN are the same in both
 * variants), so one scoring pass serves all variants: a DenseNet-BC-100 forward pass is the cost on a CPU.
 * @returns the specs (keyed `s0`, `s1`, …) and, per variant, score name → key.
 */
export function sharedSpecs(
  cfg: UnleashingMaskConfig,
  variants: readonly Variant[],
): { specs: DetectorSpec[]; byVariant: Map<Variant, Map<string, string>> } {
  const specs: DetectorSpec[] = [], keys = new Map<string, string>();
  const byVariant = new Map<Variant, Map<string, string>>();
  for (const variant of variants) {
    const names = new Map<string, string>();
    for (const spec of umDetectors(cfg, variant)) {
      const id = JSON.stringify({ use: spec.use, opts: spec.opts ?? null });
      if (!keys.has(id)) {
        keys.set(id, `s${specs.length}`);
        specs.push({ ...spec, as: `s${specs.length}` } as DetectorSpec);
      }
      names.set(spec.as ?? spec.use, keys.get(id)!);
    }
    byVariant.set(variant, names);
  }
  return { specs, byVariant };
}

/** The registry entries of a config's released files. */
function entriesOf(released: UmReleasedOptions): ReleasedFile[] {
  return released.files.map((id) => {
    const e = UNLEASHING_MASK_RELEASED.find((f) => f.id === id);
    if (!e) throw new Error(`unknown Unleashing Mask released file "${id}"`);
    return e;
  });
}

/**
 * Evaluates the authors' released weights (when `cfg.weights` is `released`): for each file of
 * `cfg.released.files`, read it safely, load it into `densenet_bc_100` and score it with every variant's detectors
 * on the released sets. Returns `skipped` in train mode, and `missing` (with what to download) when a file or a
 * dataset is absent — then nothing is scored.
 */
export async function runUnleashingMaskReleased(
  cfg: UnleashingMaskConfig,
  opts: UmReleasedRunOptions = {},
): Promise<UmReleasedRun> {
  if (cfg.weights !== "released" || !cfg.released) {
    return {
      status: "skipped",
      message: "This run trains its own weights (weights: train). To evaluate the authors' released DenseNets " +
        "instead, run the notebook with OOD_WEIGHTS=released.",
    };
  }
  const released = cfg.released;
  const entries = entriesOf(released);
  const { idDataset, numClasses } = umReleasedDataset(entries[0]!.id);
  const missing: ReleasedFile[] = [];
  for (const e of entries) if (!(await releasedPresent(e, opts.root))) missing.push(e);
  // Data is checked even when weights are missing, so one message lists everything to fetch.
  const missingDatasets: string[] = [], lines: string[] = [];
  let sets: EvalSets | null = null;
  try {
    sets = await (opts.load ?? loadReleasedSets)(cfg, released, idDataset);
  } catch (e) {
    if (!(e instanceof DatasetMissingError)) throw e;
    missingDatasets.push(e.dataset);
    lines.push(e.message);
  }
  if (missing.length > 0 || sets === null) {
    if (missing.length > 0) lines.unshift(missingReleasedMessage(missing, opts.root));
    return {
      status: "missing",
      message: `Released-weights run not evaluated. To run it, fetch:\n${lines.join("\n")}`,
      missingFiles: missing.map((e) => e.id),
      missingDatasets,
    };
  }
  if (sets.test.classes.length !== numClasses) {
    throw new Error(`${entries[0]!.id} has ${numClasses} classes but ${idDataset} has ${sets.test.classes.length}`);
  }
  const network = released.network ?? { depth: 100, growthRate: 12 };
  // The faithful Mahalanobis takes class statistics on augmented training images: CIFAR's crop and flip here,
  // whatever the (profile's) training run uses.
  const scoring: UnleashingMaskConfig = { ...cfg, augment: "cropFlip" };
  const plan = sharedSpecs(scoring, cfg.variants as readonly Variant[]);
  const models: UmReleasedModel[] = [], rows: ResultRow[] = [];
  for (const entry of entries) {
    const t0 = performance.now();
    const path = releasedFilePath(entry, undefined, opts.root);
    const net = createBackbone("densenet_bc_100", {
      numClasses,
      depth: network.depth,
      growthRate: network.growthRate,
      affineBatchNorm: false,
      dropRate: 0.3,
      inputShape: [sets.test.shape[1], sets.test.shape[2], sets.test.shape[3]],
    });
    try {
      const stateDict = findStateDict(await readTorchCheckpoint(path), path);
      // As the authors' pretrained() loads these files into the dense model of the UM configs: `scores` of
      // SubnetConv layers, should a file carry them, are not part of that model (counted in ignoredKeys).
      const map = umDenseNetMap({ ...network, bottleneck: true, ignoreSubnetScores: true });
      const ignored = loadStateDict([net.model], stateDict, map, path);
      const t1 = performance.now();
      const stage = entry.id.endsWith("_best") ? "best" : "last";
      const table = await scoreAll(net, sets, plan.specs, { batchSize: cfg.evalBatchSize, seed: 0 });
      const classify = (o: NetOutputs) => argmaxRows(o.logits);
      const classification = {
        labels: sets.test.labels,
        predictions: classify(table.outputs.test),
        numClasses: sets.test.classes.length,
        oodPredictions: Object.fromEntries(Object.entries(table.outputs.ood).map(([k, o]) => [k, classify(o)])),
      };
      for (const variant of cfg.variants) {
        const names = plan.byVariant.get(variant)!;
        const pick = <T>(all: Record<string, T>) =>
          Object.fromEntries([...names].map(([score, k]) => [score, all[k]!])) as Record<string, T>;
        const key = {
          paper: UM_PAPER,
          method: "ce",
          variant,
          label: `CE released ${stage} (${variant})`,
          backbone: "densenet_bc_100",
          width: 1,
          idDataset,
          seed: 0,
          selection: stage === "best" ? "best-test" as const : "last" as const,
          trainSeconds: null,
        };
        rows.push(...toRows(key, pick(table.scores), {
          fprRules: [cfg.fprRule],
          classification,
          oodGroups: sets.oodGroups,
          scoreSeconds: pick(table.seconds),
        }));
      }
      models.push({
        id: entry.id,
        path,
        stage,
        ignoredKeys: ignored.length,
        ignoredScores: ignored.filter((k) => k.endsWith(".scores")).length,
        loadSeconds: (t1 - t0) / 1000,
        scoreSeconds: (performance.now() - t1) / 1000,
      });
    } finally {
      net.model.dispose();
    }
  }
  return {
    status: "done",
    idDataset,
    options: released,
    models,
    rows,
    sizes: {
      train: sets.train.shape[0],
      test: sets.test.shape[0],
      ood: Object.fromEntries(Object.entries(sets.ood).map(([k, d]) => [k, d.shape[0]])),
    },
  };
}

/** The README's method names of the paper-numbers rows (`lib/report/paper_numbers/unleashing_mask.json`). */
const README_ROWS: Readonly<Record<string, string>> = { CE: "Energy", UM: "Energy+UM", OE: "OE", "OE+UM": "OE+UM" };

type Metric = "fpr95" | "auroc" | "auprIn" | "idAccuracy";
const METRICS: readonly Metric[] = ["fpr95", "auroc", "auprIn", "idAccuracy"];

/** Rows averaged over the OOD sets, per (label, score), in first-appearance order. */
function averages(
  rows: readonly ResultRow[],
): { label: string; score: string; values: Record<Metric, number | null> }[] {
  const groups = new Map<string, ResultRow[]>();
  for (const r of rows) {
    const k = `${r.label}\u0000${r.score}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const mean = (m: Metric) => {
      const v = g.map((r) => r[m]).filter((x): x is number => typeof x === "number" && Number.isFinite(x));
      return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
    };
    return { label: g[0]!.label, score: g[0]!.score, values: Object.fromEntries(METRICS.map((m) => [m, mean(m)])) };
  }) as { label: string; score: string; values: Record<Metric, number | null> }[];
}

/**
 * The released-weights run beside the authors' numbers: the README's "Sample Results" (CIFAR-10; the paper's
 * tables are not transcribed, papers.md §12) and ours from the released files, every row labelled with its
 * source; then Energy per OOD set. When the run was skipped or files/data are missing, the message instead.
 *
 * @param run What {@linkcode runUnleashingMaskReleased} returned.
 * @param paper The paper numbers (`loadPaperNumbers("unleashing_mask")`), or null.
 */
export function releasedView(run: UmReleasedRun, paper: PaperNumbers | null): Displayable {
  if (run.status !== "done") return htmlView(`<pre>${escapeHtml(run.message)}</pre>`, run.message);
  const pct = (v: number | null | undefined) => formatNumber(v ?? null, 100, 2);
  const rows: Record<string, string>[] = [];
  if (paper && run.idDataset === "cifar10") {
    for (const [method, readme] of Object.entries(README_ROWS)) {
      const get = (m: Metric) =>
        paper.numbers.find((n) => n.method === method && n.metric === m && (n.oodDataset ?? "Average") === "Average")
          ?.value;
      if (METRICS.every((m) => get(m) == null)) continue;
      rows.push({
        source: "authors: README Sample Results (mean of their runs)",
        model: `${readme}${method.includes("UM") ? "" : " (pretrained DenseNet-101)"}`,
        score: method.startsWith("OE") ? "energy (OE-trained)" : "energy",
        ...Object.fromEntries(METRICS.map((m) => [m, pct(get(m))])),
      });
    }
  }
  for (const a of averages(run.rows)) {
    rows.push({
      source: "ours: released file, this notebook's scores and metrics",
      model: a.label,
      score: a.score,
      ...Object.fromEntries(METRICS.map((m) => [m, pct(a.values[m])])),
    });
  }
  const n = run.sizes;
  const table = new Table(
    [
      { key: "source", label: "Source", kind: "key" },
      { key: "model", label: "Model", kind: "key" },
      { key: "score", label: "Score", kind: "key" },
      { key: "fpr95", label: "FPR95 %" },
      { key: "auroc", label: "AUROC %" },
      { key: "auprIn", label: "AUPR %" },
      { key: "idAccuracy", label: "ID-ACC %" },
    ],
    rows,
    {
      caption: `Released weights on ${run.idDataset}: the authors' numbers and ours (average over ` +
        `${Object.keys(n.ood).length} OOD sets)`,
      notes: [
        `Ours: ${
          run.models.map((m) =>
            `${m.id} (${m.loadSeconds.toFixed(1)} s to load, ${m.scoreSeconds.toFixed(1)} s to score` +
            `${m.ignoredScores > 0 ? `; ${m.ignoredScores} SubnetConv score tensors ignored` : ""})`
          ).join("; ")
        }; ` +
        `${n.test} ID test images, ${Object.entries(n.ood).map(([k, v]) => `${k} ${v}`).join(", ")} OOD images; ` +
        `Mahalanobis statistics from ${n.train} training images. FPR95: Hendrycks' rule; AUPR: average precision, ID positive.`,
        "Authors: the README's Sample Results (CIFAR-10, DenseNet-101, average over their seven OOD sets, mean over " +
        "runs; cited in lib/report/paper_numbers/unleashing_mask.json). They come from the authors' own training " +
        "runs, not necessarily from these files. The paper's tables are not transcribed (papers.md §12).",
      ],
    },
  );
  const energy = run.rows.filter((r) => r.score === "energy");
  const perSet = new Table(
    [
      { key: "model", label: "Model", kind: "key" },
      { key: "ood", label: "OOD set", kind: "key" },
      { key: "fpr95", label: "FPR95 %" },
      { key: "auroc", label: "AUROC %" },
      { key: "auprIn", label: "AUPR %" },
    ],
    energy.map((r) => ({
      model: r.label,
      ood: r.oodDataset,
      fpr95: pct(r.fpr95),
      auroc: pct(r.auroc),
      auprIn: pct(r.auprIn),
    })),
    { caption: "Released weights, Energy per OOD set (ours)" },
  );
  return stacked([table, perSet]);
}

/**
 * A display of the training run, or — when the notebook evaluates released weights and trained nothing (`exp`
 * null) — a one-line note, so the training cells still show something and do not fail.
 */
export function whenTrained<T>(exp: UmExperiment | null, view: (exp: UmExperiment) => T): T | Displayable {
  if (exp) return view(exp);
  const note = "weights: released — no training run here; the authors' released weights are evaluated below.";
  return htmlView(`<p><em>${escapeHtml(note)}</em></p>`, note);
}
