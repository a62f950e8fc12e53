/**
 * Shared fixtures for the score tests: a tiny linear "backbone" stub on synthetic Gaussian clusters, and
 * assertion helpers (closeness, tensor-leak checks).
 */
import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { Rng } from "@lib/data/rng.ts";
import type { Normalization } from "@lib/scores/types.ts";
import type { Dataset } from "@lib/datasets/types.ts";

/** Asserts |actual − expected| ≤ tol elementwise. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = ""): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    assert.ok(Math.abs(a - e) <= tol, `${what}[${i}]: got ${a}, expected ${e} (tol ${tol})`);
  }
}

/** Runs `f`, reads and disposes the returned tensor, and asserts no tensor was left behind. */
export function noLeak(f: () => tf.Tensor): Float32Array {
  const before = tf.memory().numTensors;
  const t = f();
  const values = t.dataSync() as Float32Array;
  t.dispose();
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  return Float32Array.from(values);
}

/** Runs a function that must return plain data, asserting it leaves no tensor behind. */
export function noLeakFit<T>(f: () => T): T {
  const before = tf.memory().numTensors;
  const out = f();
  assert.equal(tf.memory().numTensors, before, "fit leaked tensors");
  return out;
}

export const DIM = 4;
export const CLASSES = 3;
export const SEPARATION = 6;

/** Input normalisation of the stub (std used by the ODIN / preprocessing step). */
export const STUB_NORMALIZATION: Normalization = { mean: [0, 0, 0, 0], std: [0.5, 0.5, 0.5, 0.5] };

/** Fixed invertible 4×4 mixing of the second "layer". */
const MIX = [
  [1, 0.5, 0, 0],
  [0, 1, 0.5, 0],
  [0, 0, 1, 0.5],
  [0.5, 0, 0, 1],
];

/**
 * A linear backbone stub on inputs [N, 1, 1, 4]: features = the 4 input values; logits_c = feature_c
 * (c < 3, the ID classes); featureList = [features, relu(features · MIX)].
 */
export function makeStub() {
  const head = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]]);
  const mix = tf.tensor2d(MIX);
  const features = (x: tf.Tensor4D) => tf.reshape(x, [x.shape[0], DIM]) as tf.Tensor2D;
  return {
    normalization: STUB_NORMALIZATION,
    features,
    logits: (x: tf.Tensor4D) => tf.tidy(() => tf.matMul(features(x), head)) as tf.Tensor2D,
    featureList: (x: tf.Tensor4D) =>
      tf.tidy(() => {
        const f = features(x);
        return [f, tf.relu(tf.matMul(f, mix)) as tf.Tensor2D];
      }),
    dispose: () => tf.dispose([head, mix]),
  };
}

/** Samples: ID class c ~ N(6·e_c, I) for c = 0, 1, 2; OOD ~ N(6·e_3, I) (an unseen direction). */
export function clusters(seed: number, perClass: number, nOod: number) {
  const rng = new Rng(seed);
  const sample = (mean: number) => Array.from({ length: DIM }, (_, j) => rng.normal(j === mean ? SEPARATION : 0, 1));
  const id: number[][] = [], labels: number[] = [];
  for (let c = 0; c < CLASSES; c++) {
    for (let i = 0; i < perClass; i++) {
      id.push(sample(c));
      labels.push(c);
    }
  }
  const ood = Array.from({ length: nOod }, () => sample(3));
  return { id, labels, ood };
}

/** Rows → [N, 1, 1, d] input tensor. */
export function asInput(rows: number[][]): tf.Tensor4D {
  return tf.tensor4d(rows.flat(), [rows.length, 1, 1, DIM]);
}

/** Quantisation of {@linkcode clusterDataset}: a value v is stored as 128 + 8·v (clipped to 0..255). */
export const CLUSTER_NORMALIZATION: Normalization = { mean: Array(DIM).fill(128 / 255), std: Array(DIM).fill(8 / 255) };

/** Rows (e.g. from {@linkcode clusters}) as a uint8 dataset of [N, 1, 1, 4] "images" (labels −1 when absent). */
export function clusterDataset(rows: number[][], labels: readonly number[] | null, name: string): Dataset {
  const images = Uint8Array.from(rows.flat(), (v) => Math.max(0, Math.min(255, Math.round(128 + 8 * v))));
  const classes = labels ? Array.from({ length: CLASSES }, (_, c) => `c${c}`) : [];
  return {
    name,
    images,
    labels: Int32Array.from(labels ?? rows.map(() => -1)),
    shape: [rows.length, 1, 1, DIM],
    classes,
  };
}

/**
 * {@linkcode makeStub} as a network the experiment layer can extract from and score (head, feature sizes, the
 * normalisation that undoes {@linkcode clusterDataset}'s quantisation).
 */
export function extractableStub() {
  const stub = makeStub();
  const head = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]]);
  return {
    ...stub,
    name: "stub",
    normalization: CLUSTER_NORMALIZATION,
    numClasses: CLASSES,
    featureDim: DIM,
    featureListDims: [DIM, DIM],
    head: (f: tf.Tensor2D) => tf.matMul(f, head) as tf.Tensor2D,
    lastLayer: () => ({
      kernel: { data: Float32Array.from(head.dataSync()), dim: CLASSES },
      bias: new Float32Array(CLASSES),
    }),
    dispose: () => {
      head.dispose();
      stub.dispose();
    },
  };
}

/** Train / test / OOD / held-out cluster datasets for {@linkcode extractableStub}. */
export function clusterSets() {
  const train = clusters(1, 100, 0), test = clusters(2, 20, 60), held = clusters(3, 10, 0);
  return {
    train: clusterDataset(train.id, train.labels, "train"),
    test: clusterDataset(test.id, test.labels, "test"),
    ood: { unseen: clusterDataset(test.ood, null, "unseen") },
    heldOut: clusterDataset(held.id, held.labels, "held-out"),
  };
}
