/**
 * The notebook's `released` run (`OOD_WEIGHTS=released`): no training; the authors' CIFAR checkpoints
 * (`lib/checkpoints/released/cider.ts`) are read safely, loaded into the registry ResNet plus CIDER's head, and
 * scored on the paper's data with this project's KNN and metric code, as `scripts/eval_ckpt_cifar*.sh` evaluates
 * them (KNN on the L2-normalised penultimate features, training set as the bank, K = 100 / 300; the authors'
 * normalisation `utils/util.py` 96–97; OOD images resized and centre-cropped to 32, `utils/detection_util.py`
 * 20–37). ID accuracy is the linear probe's, as in the training runs (the released `fc` was never trained).
 *
 * When a released file or a dataset is absent, nothing is evaluated for that file: the outcome carries the
 * download instructions (`missingReleasedMessage`, the dataset layer's `DatasetMissingError` message) instead.
 * {@linkcode releasedComparisonTable} puts the paper's Table 6, the authors' committed sample run and ours side by
 * side.
 * @module
 */
import { createBackbone } from "../../backbones/mod.ts";
import type { Normalization } from "../../datasets/types.ts";
import { availableDatasets, type EvalSets, loadEvalSets, oodSetsFor } from "../../experiment/eval_sets.ts";
import { evaluateModel } from "../../experiment/evaluate_model.ts";
import type { ScoreSets, ScoreTable } from "../../experiment/score.ts";
import { probePredict, trainProbe } from "../../experiment/probe.ts";
import type { NetOutputs } from "../../scores/mod.ts";
import { readTorchCheckpoint } from "../../io/torch/mod.ts";
import { findStateDict, loadStateDict } from "../../checkpoints/load_state_dict.ts";
import {
  CIDER_RELEASED_NETWORKS,
  CIDER_RESNET_BLOCKS,
  ciderReleasedFile,
  type CiderReleasedNetwork,
  ciderStateDictMap,
} from "../../checkpoints/released/cider.ts";
import { missingReleasedMessage, releasedFilePath, releasedPresent } from "../../checkpoints/released/paths.ts";
import type { ReleasedFile } from "../../checkpoints/released/types.ts";
import type { ResultRow } from "../../report/results.ts";
import type { PaperNumbers } from "../../report/paper_numbers.ts";
import { Table } from "../../report/html_table.ts";
import { formatNumber } from "../../report/table.ts";
import { accuracy } from "../../metrics/classification.ts";
import type { CiderConfig } from "./config.ts";
import { ciderNet } from "./network.ts";

/** CIDER's input normalisation, as its transforms write it (`utils/util.py` 96–97, `detection_util.py` 20–21). */
export const CIDER_AUTHORS_NORMALIZATION: Normalization = { mean: [0.491, 0.482, 0.447], std: [0.247, 0.244, 0.262] };

/** The method label of the released rows. */
export const RELEASED_LABEL = "CIDER (authors' weights)";

/** One released file evaluated. */
export interface CiderReleasedEvaluation {
  network: CiderReleasedNetwork;
  file: ReleasedFile;
  /** The checkpoint read. */
  path: string;
  /** Width multiplier and head size read from the file's shapes (1 and 128 for the authors' files). */
  width: number;
  featDim: number;
  /** K used: the authors' K, or the bank size when the bank is smaller. */
  k: number;
  /** The KNN scores (ID test and each OOD set), for the histograms. */
  scores: Record<string, ScoreSets>;
  /** Linear-probe accuracy on the ID test set (fraction). */
  probeAccuracy: number;
  rows: ResultRow[];
  sets: EvalSets;
  /** Seconds to read, load and evaluate. */
  seconds: number;
}

/** What the released run did: what it evaluated, and what to download for the rest. */
export interface CiderReleasedOutcome {
  /** The files the config asked for. */
  requested: string[];
  evaluations: CiderReleasedEvaluation[];
  /** Every evaluation's rows. */
  rows: ResultRow[];
  /** Download instructions for what is absent (weights files, datasets), or null when everything ran. */
  missing: string | null;
}

/** The first dimension of a tensor in the state dict, or throws naming the key. */
function outChannels(sd: ReadonlyMap<string, { shape: readonly number[] }>, key: string, path: string): number {
  const t = sd.get(key) ?? sd.get(`module.${key}`);
  if (!t) throw new Error(`${path}: no ${key} (is this a CIDER checkpoint?)`);
  return t.shape[0]!;
}

/**
 * Evaluates one released file on loaded sets: builds the registry backbone at the file's width (read from
 * `encoder.conv1`; 1 for the authors' files) with CIDER's head (size read from `head.2`), loads every weight
 * through the name map (strict: a key missing or left over is an error), and scores KNN with the authors' K.
 */
export async function evaluateReleased(
  cfg: Pick<CiderConfig, "dataSeed" | "evalBatchSize" | "probe">,
  network: CiderReleasedNetwork,
  path: string,
  sets: EvalSets,
): Promise<Omit<CiderReleasedEvaluation, "file" | "seconds">> {
  const root = await readTorchCheckpoint(path);
  const sd = findStateDict(root, path);
  const width = outChannels(sd, "encoder.conv1.weight", path) / 64;
  const featDim = outChannels(sd, "head.2.weight", path);
  const [, h, w, c] = sets.train.shape;
  const numClasses = sets.train.classes.length;
  const backbone = createBackbone(network.backbone, {
    numClasses,
    inputShape: [h, w, c],
    width,
    normalization: CIDER_AUTHORS_NORMALIZATION,
  });
  const net = ciderNet(backbone, { out: featDim });
  try {
    loadStateDict([net.model], sd, ciderStateDictMap(CIDER_RESNET_BLOCKS[network.backbone]), path);
    const k = Math.min(network.k, sets.train.shape[0]);
    const key = {
      paper: "cider",
      method: "cider",
      variant: "none" as const,
      label: RELEASED_LABEL,
      backbone: network.backbone,
      width,
      idDataset: network.idDataset,
      seed: cfg.dataSeed,
      trainSeconds: null,
    };
    const probe = ({ outputs: { train } }: ScoreTable) => {
      const p = trainProbe(train!.features, train!.labels, { ...cfg.probe, numClasses, seed: cfg.dataSeed });
      return (o: NetOutputs) => probePredict(p, o.features);
    };
    const { table, rows, predictions } = await evaluateModel(backbone, sets, [{ use: "knn", opts: { k } }], key, {
      batchSize: cfg.evalBatchSize,
      seed: cfg.dataSeed,
      fprRules: ["hendrycks", "sklearn"],
      classifier: probe,
    });
    return {
      network,
      path,
      width,
      featDim,
      k,
      scores: table.scores,
      probeAccuracy: accuracy(table.outputs.test.labels, predictions),
      rows,
      sets,
    };
  } finally {
    net.model.dispose();
  }
}

/**
 * The released run: for each file of `cfg.released.files`, checks that the file and the data are there, then
 * loads the sets (`loadEvalSets` with the released sizes) and evaluates the authors' network. Absent files or data
 * are collected into `missing` (and printed); nothing is trained.
 * @example Usage
 * ```ts ignore
 * const out = await runCiderReleased(cfg); // cfg.weights === "released"
 * if (out.missing) console.log(out.missing);
 * ```
 */
export async function runCiderReleased(
  cfg: Pick<CiderConfig, "released" | "dataSeed" | "evalBatchSize" | "probe">,
): Promise<CiderReleasedOutcome> {
  const opts = cfg.released;
  if (!opts) throw new Error("runCiderReleased: the config has no `released` options");
  const evaluations: CiderReleasedEvaluation[] = [];
  const absentFiles: ReleasedFile[] = [];
  const absentData = new Set<string>();
  for (const id of opts.files) {
    const network = CIDER_RELEASED_NETWORKS[id];
    if (!network) throw new Error(`runCiderReleased: "${id}" is not a loadable CIDER file`);
    const file = ciderReleasedFile(id);
    const present = await releasedPresent(file);
    const data = await availableDatasets([network.idDataset, ...oodSetsFor(network.idDataset, opts.oodDatasets)]);
    if (!present) absentFiles.push(file);
    data.messages.forEach((m) => absentData.add(m));
    if (!present || data.missing.length > 0) continue;
    const t0 = performance.now();
    const sets = await loadEvalSets({
      id: network.idDataset,
      dataSeed: cfg.dataSeed,
      trainLimit: opts.trainLimit,
      testLimit: opts.nTest,
      oodDatasets: opts.oodDatasets,
      oodLimit: opts.nOod,
    });
    const path = releasedFilePath(file);
    const evaluation = await evaluateReleased(cfg, network, path, sets);
    evaluations.push({ ...evaluation, file, seconds: (performance.now() - t0) / 1000 });
  }
  const parts = [
    ...(absentFiles.length > 0 ? [missingReleasedMessage(absentFiles)] : []),
    ...absentData,
  ];
  const missing = parts.length > 0
    ? `Released-weights run: not evaluated (nothing was trained):\n${parts.join("\n")}`
    : null;
  if (missing) console.log(missing);
  return { requested: [...opts.files], evaluations, rows: evaluations.flatMap((e) => e.rows), missing };
}

/**
 * The paper's Table 6 (appendix, "Ablation on stability", mean ± std over 3 runs; FPR95 and AUROC in %), as
 * papers.md §12 transcribes it from a screenshot of the table (pull request #11 of deeplearning-wisc/cider, commit
 * 9c8c4ec). "LSUN" is LSUN-C. Only what that source shows: no AUPR.
 */
export const CIDER_TABLE6: Readonly<
  Record<"cifar10" | "cifar100", Readonly<Record<string, { fpr95: [number, number]; auroc: [number, number] }>>>
> = {
  cifar10: {
    svhn: { fpr95: [3.04, 1.38], auroc: [99.50, 0.30] },
    places365: { fpr95: [26.60, 2.47], auroc: [94.64, 0.51] },
    lsun_crop: { fpr95: [4.10, 1.68], auroc: [99.14, 0.19] },
    isun: { fpr95: [15.94, 4.56], auroc: [97.10, 0.54] },
    textures: { fpr95: [13.19, 0.82], auroc: [97.39, 0.48] },
    Average: { fpr95: [12.57, 1.31], auroc: [97.56, 0.33] },
  },
  cifar100: {
    svhn: { fpr95: [23.67, 2.28], auroc: [95.07, 0.13] },
    places365: { fpr95: [79.37, 1.84], auroc: [72.97, 3.90] },
    lsun_crop: { fpr95: [22.04, 5.12], auroc: [96.01, 1.80] },
    isun: { fpr95: [62.16, 8.48], auroc: [83.70, 2.92] },
    textures: { fpr95: [44.96, 6.01], auroc: [90.25, 0.97] },
    Average: { fpr95: [46.45, 2.01], auroc: [87.60, 1.03] },
  },
};

/** The source line of {@link CIDER_TABLE6}. */
export const CIDER_TABLE6_SOURCE =
  "paper Table 6 (mean ± std of 3 runs): papers.md §12, read from a screenshot in deeplearning-wisc/cider PR #11 " +
  "(commit 9c8c4ec)";

const OOD_ORDER = ["svhn", "places365", "isun", "textures", "lsun_crop"];
const OOD_NAMES: Record<string, string> = {
  svhn: "SVHN",
  places365: "Places365",
  isun: "iSUN",
  textures: "Textures (dtd)",
  lsun_crop: "LSUN-C",
  Average: "average",
};

/**
 * Paper vs authors' sample run vs ours, per ID setting and OOD set (FPR95 with CIDER's rule, AUROC, AUPR-In; %):
 * "paper Table 6 (mean ± std of 3 runs)", "authors' sample run (epoch 500, KNN)" (the CSVs the repository
 * commits, from `lib/report/paper_numbers/cider.json`), and ours (the released weights through this project's KNN
 * and metrics). "ours" averages the OOD sets evaluated; the other averages are the sources' own.
 *
 * @param outcome The released run.
 * @param paper `loadPaperNumbers("cider")` (its "authors' sample run" entries are used).
 * @param ids The files to show (default: those the run asked for).
 */
export function releasedComparisonTable(
  outcome: CiderReleasedOutcome,
  paper: PaperNumbers,
  ids?: readonly string[],
): Table {
  const shown = ids ?? outcome.requested;
  const sample = (id: string, ood: string, metric: string) =>
    paper.numbers.find((n) =>
      n.idDataset === id && n.oodDataset === ood && n.metric === metric && n.source.startsWith("authors' sample run")
    )?.value;
  // Loaded paper numbers are fractions (parsePaperNumbers); Table 6 is kept in % as printed.
  const pct = (v: number | null | undefined) => v === undefined || v === null ? "—" : formatNumber(v);
  const pm = (v: [number, number] | undefined) => v === undefined ? "—" : `${v[0].toFixed(2)} ± ${v[1].toFixed(2)}`;
  const rows: Record<string, string>[] = [];
  const groupStarts = new Set<number>(), emphasis = new Set<number>();
  for (const id of shown) {
    const network = CIDER_RELEASED_NETWORKS[id]!;
    const ev = outcome.evaluations.find((e) => e.network.id === id);
    const ours = (ood: string, metric: "fpr95" | "auroc" | "auprIn") => {
      const rs = (ev?.rows ?? []).filter((r) => r.fprRule === "hendrycks" && r.score === "knn");
      const vals = (ood === "Average" ? rs : rs.filter((r) => r.oodDataset === ood)).map((r) => r[metric]);
      const ok = vals.filter((v): v is number => v !== null);
      return ok.length === 0 ? "—" : formatNumber(ok.reduce((a, b) => a + b, 0) / ok.length);
    };
    groupStarts.add(rows.length);
    for (const ood of [...OOD_ORDER, "Average"]) {
      if (ood === "Average") emphasis.add(rows.length);
      const t6 = CIDER_TABLE6[network.idDataset][ood];
      rows.push({
        setting: `${network.idDataset} · ${network.backbone}`,
        ood: OOD_NAMES[ood]!,
        fprPaper: pm(t6?.fpr95),
        fprSample: pct(sample(network.idDataset, ood, "fpr95")),
        fprOurs: ours(ood, "fpr95"),
        aurocPaper: pm(t6?.auroc),
        aurocSample: pct(sample(network.idDataset, ood, "auroc")),
        aurocOurs: ours(ood, "auroc"),
        auprSample: pct(sample(network.idDataset, ood, "auprIn")),
        auprOurs: ours(ood, "auprIn"),
      });
    }
  }
  const evaluated = outcome.evaluations.map((e) =>
    `${e.network.id}: ${e.sets.train.shape[0]} bank images, ${e.sets.test.shape[0]} ID test images, ` +
    `${Object.entries(e.sets.ood).map(([n, d]) => `${d.shape[0]} ${n}`).join(", ")}; K = ${e.k}` +
    (e.k < e.network.k ? ` (the authors' ${e.network.k} exceeds the bank)` : "") +
    `; probe accuracy ${formatNumber(e.probeAccuracy)} %`
  );
  return new Table(
    [
      { key: "setting", label: "ID · backbone", kind: "key" },
      { key: "ood", label: "OOD", kind: "key" },
      { key: "fprPaper", label: "FPR95 paper T6" },
      { key: "fprSample", label: "FPR95 authors' sample" },
      { key: "fprOurs", label: "FPR95 ours" },
      { key: "aurocPaper", label: "AUROC paper T6" },
      { key: "aurocSample", label: "AUROC authors' sample" },
      { key: "aurocOurs", label: "AUROC ours" },
      { key: "auprSample", label: "AUPR authors' sample" },
      { key: "auprOurs", label: "AUPR ours" },
    ],
    rows,
    {
      caption: "The authors' released weights: paper vs the authors' sample run vs ours (%; ↓ FPR95, ↑ AUROC, AUPR)",
      groupStarts,
      emphasis,
      notes: [
        `paper T6 = ${CIDER_TABLE6_SOURCE}; no AUPR there.`,
        "authors' sample = authors' sample run (epoch 500, KNN): results/CIFAR-{10,100}/sample/cider/epoch_500/knn/" +
        "sample.csv committed in deeplearning-wisc/cider (papers.md §12), the authors' code on their weights.",
        "ours = the released checkpoint_500.pth.tar read by lib/io/torch, this project's KNN (normalised penultimate " +
        "features, squared distance to the K-th training neighbour) and metrics (FPR95 with CIDER's Hendrycks rule, " +
        "AUPR = average precision with ID positive); ours' average is over the OOD sets evaluated. — = not available.",
        ...(evaluated.length > 0 ? evaluated : ["ours: not run here (see the message above for what to download)."]),
      ],
    },
  );
}
