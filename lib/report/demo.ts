/**
 * Synthetic data for the demo notebook (`notebooks/demo/demo.ipynb`), which exercises the notebook machinery
 * (config cell, progress, result rows, tables, figures) in seconds without a dataset or a model.
 *
 * The toy world: ID features are `classes` Gaussian clusters in `dim` dimensions; each OOD set is a cluster
 * displaced by its `oodShift` (in units of the cluster std). Two scores (higher = more ID): `nearest-mean`
 * (minus the distance to the closest class mean) and `norm` (minus the distance to the global mean, a weaker
 * score). Nothing here is a result of any paper.
 * @module
 */
import { Rng } from "../data/rng.ts";

/** The demo notebook's config (its only numbers). */
export interface DemoConfig {
  /** One run per seed. */
  seeds: readonly number[];
  /** ID test samples and samples per OOD set. */
  nId: number;
  nOod: number;
  /** Feature dimension and number of ID classes. */
  dim: number;
  classes: number;
  /** Epochs of the fake training curve. */
  epochs: number;
  /** OOD set name → displacement from the ID clusters, in cluster stds. */
  oodShift: Readonly<Record<string, number>>;
}

/** One synthetic run. */
export interface DemoRun {
  seed: number;
  /** Score name → ID scores / OOD set name → scores. */
  scores: Record<string, { id: Float64Array; ood: Record<string, Float64Array> }>;
  /** ID class labels and the predicted class (nearest mean), for ID accuracy. */
  labels: Int32Array;
  predictions: Int32Array;
  /** Features of every sample (ID first, then each OOD set), row-major, with their group names. */
  features: { data: Float64Array; dim: number };
  groups: string[];
  /** A fake per-epoch training history (Keras keys). */
  history: { epoch: number; loss: number; val_loss: number; acc: number; val_acc: number }[];
}

/** Generates one deterministic synthetic run for `seed`. */
export function demoRun(cfg: DemoConfig, seed: number): DemoRun {
  const rng = new Rng(`demo/${seed}`);
  const { dim, classes } = cfg;
  const means = Array.from({ length: classes }, () => Float64Array.from({ length: dim }, () => rng.normal(0, 1.2)));
  const rows: Float64Array[] = [], groups: string[] = [];
  const labels = new Int32Array(cfg.nId);
  for (let i = 0; i < cfg.nId; i++) {
    const c = i % classes;
    labels[i] = c;
    rows.push(Float64Array.from(means[c]!, (m) => m + rng.normal()));
    groups.push(`ID class ${c}`);
  }
  const direction = Float64Array.from({ length: dim }, () => rng.normal());
  const norm = Math.hypot(...direction);
  for (const [name, shift] of Object.entries(cfg.oodShift)) {
    for (let i = 0; i < cfg.nOod; i++) {
      const c = i % classes;
      rows.push(Float64Array.from(means[c]!, (m, j) => m + rng.normal() + shift * direction[j]! / norm * 2));
      groups.push(`OOD ${name}`);
    }
  }
  const center = new Float64Array(dim);
  for (const m of means) for (let j = 0; j < dim; j++) center[j]! += m[j]! / classes;
  const dist = (a: Float64Array, b: Float64Array) => Math.hypot(...a.map((v, j) => v - b[j]!));
  const nearest = rows.map((r) => {
    let best = 0, bestD = Infinity;
    means.forEach((m, c) => {
      const d = dist(r, m);
      if (d < bestD) [best, bestD] = [c, d];
    });
    return { c: best, d: bestD };
  });
  const split = (f: (i: number) => number) => {
    const id = Float64Array.from({ length: cfg.nId }, (_, i) => f(i));
    const ood: Record<string, Float64Array> = {};
    Object.keys(cfg.oodShift).forEach((name, k) => {
      ood[name] = Float64Array.from({ length: cfg.nOod }, (_, i) => f(cfg.nId + k * cfg.nOod + i));
    });
    return { id, ood };
  };
  const data = new Float64Array(rows.length * dim);
  rows.forEach((r, i) => data.set(r, i * dim));
  const history = Array.from({ length: cfg.epochs }, (_, e) => {
    const t = (e + 1) / cfg.epochs;
    return {
      epoch: e + 1,
      loss: 2.3 * Math.exp(-4 * t) + 0.05 + 0.02 * rng.float(),
      val_loss: 2.3 * Math.exp(-3.5 * t) + 0.12 + 0.03 * rng.float(),
      acc: 1 - 0.9 * Math.exp(-5 * t) - 0.01 * rng.float(),
      val_acc: 1 - 0.9 * Math.exp(-4.5 * t) - 0.04 - 0.01 * rng.float(),
    };
  });
  return {
    seed,
    scores: {
      "nearest-mean": split((i) => -nearest[i]!.d),
      norm: split((i) => -dist(rows[i]!, center)),
    },
    labels,
    predictions: Int32Array.from({ length: cfg.nId }, (_, i) => nearest[i]!.c),
    features: { data, dim },
    groups,
    history,
  };
}
