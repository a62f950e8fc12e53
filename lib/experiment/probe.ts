/**
 * ID accuracy by a linear probe on frozen penultimate features, the protocol CIDER's authors point to (SupCon's
 * linear evaluation; deeplearning-wisc/cider issues #3 and #6: the model's own `fc` is never trained by CIDER,
 * so its "accuracy" is meaningless).
 *
 * The probe is a softmax regression p(y|h) = softmax(W·ĥ + b) on standardised features ĥ = (h − m)/s (m, s:
 * per-dimension mean and std of the training features; an affine map, so the probe is still linear in h),
 * trained with cross-entropy by SGD (momentum 0.9, PyTorch semantics) with a cosine rate, on features
 * extracted once without augmentation (SupCon's `main_linear.py` augments and trains 100 epochs; see the
 * notebook's deviations).
 * @module
 */
import { tf } from "../tf.ts";
import { Rng } from "../data/rng.ts";
import { SGD } from "../train/optimizers.ts";
import type { Matrix } from "../scores/matrix.ts";

/** Options of {@linkcode trainProbe}. */
export interface ProbeOptions {
  /** Number of classes. */
  numClasses: number;
  /** Passes over the training features. */
  epochs: number;
  /** Features per step. */
  batchSize: number;
  /** Peak learning rate (cosine-annealed per step to 0). */
  lr: number;
  /** Coupled L2 weight decay. */
  weightDecay: number;
  /** Seed of the batch order. */
  seed: number;
}

/** A trained probe (plain data). */
export interface LinearProbe {
  /** Feature dimension D and classes C. */
  dim: number;
  numClasses: number;
  /** Standardisation: mean and std per dimension. */
  mean: Float32Array;
  std: Float32Array;
  /** W [D, C] row-major and b [C]. */
  weights: Float32Array;
  bias: Float32Array;
}

function standardise(m: Matrix, mean: Float32Array, std: Float32Array): Float32Array {
  const out = new Float32Array(m.data.length);
  for (let i = 0; i < m.data.length; i++) out[i] = (m.data[i]! - mean[i % m.dim]!) / std[i % m.dim]!;
  return out;
}

/**
 * Trains a linear probe on frozen features.
 * @param features Training features [N, D].
 * @param labels N class indices.
 * @returns The probe; no tensor is kept.
 * @example Usage
 * ```ts ignore
 * const probe = trainProbe(train.features, train.labels, { numClasses: 10, epochs: 30, batchSize: 256, lr: 0.1, weightDecay: 0, seed: 0 });
 * const predicted = probePredict(probe, test.features);
 * ```
 */
export function trainProbe(features: Matrix, labels: Int32Array, opts: ProbeOptions): LinearProbe {
  const d = features.dim, n = labels.length, c = opts.numClasses;
  if (features.data.length !== n * d) throw new Error(`trainProbe: ${features.data.length} values for ${n} labels`);
  const mean = new Float32Array(d), std = new Float32Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k]! += features.data[i * d + k]! / n;
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) std[k]! += (features.data[i * d + k]! - mean[k]!) ** 2 / n;
  for (let k = 0; k < d; k++) std[k] = Math.sqrt(std[k]!) + 1e-6;
  const x = standardise(features, mean, std);
  // Inside tidy: the zeros are freed, the variables (never tracked by tidy) stay.
  const w = tf.tidy(() => tf.variable(tf.zeros([d, c]), true, `probe_w_${crypto.randomUUID()}`));
  const b = tf.tidy(() => tf.variable(tf.zeros([c]), true, `probe_b_${crypto.randomUUID()}`));
  const opt = new SGD([w, b], { lr: opts.lr, momentum: 0.9, weightDecay: opts.weightDecay });
  const rng = new Rng(opts.seed);
  const steps = opts.epochs * Math.ceil(n / opts.batchSize);
  let step = 0;
  try {
    for (let e = 0; e < opts.epochs; e++) {
      const order = rng.permutation(n);
      for (let s = 0; s < n; s += opts.batchSize) {
        const idx = order.subarray(s, Math.min(n, s + opts.batchSize));
        const xb = new Float32Array(idx.length * d), yb = new Int32Array(idx.length);
        idx.forEach((j, r) => {
          xb.set(x.subarray(j * d, (j + 1) * d), r * d);
          yb[r] = labels[j]!;
        });
        opt.learningRate = opts.lr * (1 + Math.cos(Math.PI * step++ / steps)) / 2;
        tf.tidy(() => {
          const xt = tf.tensor2d(xb, [idx.length, d]), yt = tf.oneHot(tf.tensor1d(yb, "int32"), c);
          const { grads } = tf.variableGrads(
            () => tf.losses.softmaxCrossEntropy(yt, tf.add(tf.matMul(xt, w), b)) as tf.Scalar,
            [w, b],
          );
          opt.applyGradients(grads);
        });
      }
    }
    return {
      dim: d,
      numClasses: c,
      mean,
      std,
      weights: Float32Array.from(w.dataSync()),
      bias: Float32Array.from(b.dataSync()),
    };
  } finally {
    opt.dispose();
    tf.dispose([w, b]);
  }
}

/** Predicted class (argmax of W·ĥ + b, first maximum) for each row. Plain JS, no tensors. */
export function probePredict(probe: LinearProbe, features: Matrix): Int32Array {
  const { dim: d, numClasses: c } = probe;
  if (features.dim !== d) throw new Error(`probePredict: the probe takes ${d}-d features, got ${features.dim}-d`);
  const x = standardise(features, probe.mean, probe.std);
  const n = x.length / d;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0, bestV = -Infinity;
    for (let j = 0; j < c; j++) {
      let v = probe.bias[j]!;
      for (let k = 0; k < d; k++) v += x[i * d + k]! * probe.weights[k * c + j]!;
      if (v > bestV) [best, bestV] = [j, v];
    }
    out[i] = best;
  }
  return out;
}
