/**
 * Scoring one trained network: features extracted once, the OOD scores of its method (higher = more
 * in-distribution, conventions C2), the metrics with CIDER's FPR95 rule and with ours, ID accuracy by the linear
 * probe, and the embedding measures.
 *
 * | method | scores |
 * |---|---|
 * | CE | MSP, Energy (T = 1) on the trained `fc`; KNN on h; Mahalanobis (optional) |
 * | SupCon, CIDER | KNN on h; Mahalanobis (optional) — their `fc` is untrained, so MSP/Energy are not defined |
 *
 * KNN (CIDER's test-time score, papers.md §6a): h L2-normalised, bank = every training image used (eval
 * transform), S = −(squared distance to the K-th nearest bank vector). Mahalanobis: class means and tied
 * covariance of the L2-normalised training h (the reference normalises the last feature map before
 * `sample_estimator`), float64 with optional shrinkage.
 * Metrics (`evaluate`): `fprRule: "hendrycks"` is CIDER's FPR95 (`fpr_and_fdr_at_recall`, papers.md §1.3); our
 * default rule (`"sklearn"`, first threshold reaching 95 % ID TPR) is kept alongside; AUROC; AUPR-In = average
 * precision with ID positive (CIDER's "AUPR").
 * @module
 */
import type { Backbone } from "../../backbones/mod.ts";
import { evaluate, type EvaluateResult } from "../../metrics/mod.ts";
import { energy, fitKnn, fitMahalanobis, knn, mahalanobis, msp } from "../../scores/mod.ts";
import { type ResultRow, resultRow } from "../../report/results.ts";
import type { CiderMethod } from "./config.ts";
import type { CiderData } from "./data.ts";
import { type EmbeddingQuality, embeddingQuality } from "./embedding.ts";
import { extractOutputs, normalizeRows, type Outputs } from "./features.ts";
import { type ProbeOptions, probePredict, trainProbe } from "./probe.ts";
import { argmaxRows, fitMatrix, scoreMatrix } from "../../scores/matrix.ts";

/** One score's values on the ID test set and each OOD set. */
export interface ScoreSets {
  id: Float32Array;
  ood: Record<string, Float32Array>;
}

/** Options of {@linkcode evaluateNetwork}. */
export interface EvaluateNetworkOptions {
  method: CiderMethod;
  /** Row labels. */
  key: { paper: string; method: string; backbone: string; idDataset: string; seed: number };
  /** K of the KNN score. */
  k: number;
  /** Mahalanobis: run it, and its shrinkage. */
  mahalanobis: { enabled: boolean; shrinkage: number };
  /** Linear probe settings (numClasses and seed are filled in). */
  probe: Omit<ProbeOptions, "numClasses" | "seed">;
  evalBatchSize: number;
}

/** What one trained network scores. */
export interface NetworkEvaluation {
  /** Score name → values. */
  scores: Record<string, ScoreSets>;
  /** One row per (score, OOD set), `fpr95` by CIDER's rule. */
  rows: ResultRow[];
  /** The same rows with our FPR95 rule. */
  rowsOurs: ResultRow[];
  /** Linear-probe accuracy on the ID test set. */
  probeAccuracy: number;
  /** The trained `fc`'s accuracy (CE only; null otherwise). */
  fcAccuracy: number | null;
  embedding: EmbeddingQuality;
  seconds: number;
}

/** Which scores a method is evaluated with. */
export function scoresOf(method: CiderMethod, withMahalanobis: boolean): string[] {
  return [...(method === "ce" ? ["msp", "energy"] : []), "knn", ...(withMahalanobis ? ["mahalanobis"] : [])];
}

/**
 * Extracts features of the training, ID test and OOD images, fits and runs the method's scores, evaluates them
 * and measures the embedding. Keeps no tensors.
 */
export async function evaluateNetwork(
  backbone: Backbone,
  data: CiderData,
  opts: EvaluateNetworkOptions,
): Promise<NetworkEvaluation> {
  const t0 = performance.now();
  const bs = opts.evalBatchSize;
  const train = await extractOutputs(backbone, data.train, bs);
  const test = await extractOutputs(backbone, data.test, bs);
  const ood: Record<string, Outputs> = {};
  for (const [name, ds] of Object.entries(data.ood)) ood[name] = await extractOutputs(backbone, ds, bs);

  const names = scoresOf(opts.method, opts.mahalanobis.enabled);
  const scores: Record<string, ScoreSets> = {};
  const run = async (name: string, f: (o: Outputs) => Promise<Float32Array>) => {
    const sets: ScoreSets = { id: await f(test), ood: {} };
    for (const [oodName, o] of Object.entries(ood)) sets.ood[oodName] = await f(o);
    scores[name] = sets;
  };
  for (const name of names) {
    if (name === "msp") await run(name, (o) => scoreMatrix(o.logits, (l) => msp(l)));
    else if (name === "energy") await run(name, (o) => scoreMatrix(o.logits, (l) => energy(l)));
    else if (name === "knn") {
      const state = fitMatrix(train.features, (f) => fitKnn(f, null, { k: opts.k }));
      await run(name, (o) => scoreMatrix(o.features, (f) => knn(state, f)));
    } else {
      const state = fitMatrix(
        normalizeRows(train.features),
        (f) =>
          fitMahalanobis(f, train.labels, { numClasses: backbone.numClasses, shrinkage: opts.mahalanobis.shrinkage }),
      );
      await run(name, (o) => scoreMatrix(normalizeRows(o.features), (f) => mahalanobis(state, f)));
    }
  }

  const probe = trainProbe(train.features, train.labels, {
    ...opts.probe,
    numClasses: backbone.numClasses,
    seed: opts.key.seed,
  });
  const predictions = probePredict(probe, test.features);
  const idClassification = { labels: test.labels, predictions };
  const rows: ResultRow[] = [], rowsOurs: ResultRow[] = [];
  for (const name of names) {
    for (const [oodName, values] of Object.entries(scores[name]!.ood)) {
      const key = { ...opts.key, score: name, oodDataset: oodName };
      const cider: EvaluateResult = evaluate(scores[name]!.id, values, { fprRule: "hendrycks", idClassification });
      rows.push(resultRow(key, cider));
      rowsOurs.push(resultRow(key, evaluate(scores[name]!.id, values, { fprRule: "sklearn", idClassification })));
    }
  }
  let correct = 0;
  predictions.forEach((p, i) => correct += p === test.labels[i] ? 1 : 0);
  let fcAccuracy: number | null = null;
  if (opts.method === "ce") {
    const fc = argmaxRows(test.logits);
    fcAccuracy = fc.reduce((s, p, i) => s + (p === test.labels[i] ? 1 : 0), 0) / fc.length;
  }
  const embedding = embeddingQuality(
    { features: train.features, labels: train.labels },
    { features: test.features, labels: test.labels },
    Object.values(ood).map((o) => o.features),
    backbone.numClasses,
  );
  return {
    scores,
    rows,
    rowsOurs,
    probeAccuracy: correct / predictions.length,
    fcAccuracy,
    embedding,
    seconds: (performance.now() - t0) / 1000,
  };
}
