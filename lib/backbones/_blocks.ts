/**
 * Private building blocks shared by the backbone files: PyTorch-aligned convolutions, batch norm, initialisers
 * that reproduce the papers' PyTorch ones, width scaling and the named marker layers that
 * {@link backboneFromModel} uses to find the feature and stage outputs again after a checkpoint is reloaded.
 * @module
 */
import { tf } from "../tf.ts";
import { batchNormalization } from "../layers/batch_norm.ts";
import { nonAffineBatchNormalization } from "../layers/non_affine_batch_norm.ts";

/** A symbolic tensor of the functional graph. */
export type Sym = tf.SymbolicTensor;
/** A TF.js weight initialiser. */
export type Initializer = ReturnType<typeof tf.initializers.zeros>;

/** Name of the marker layer whose output is the penultimate feature vector. */
export const FEATURES_LAYER = "features";
/** Name of the last classification layer (its output is the logits). */
export const HEAD_LAYER = "head";
/** Prefix of the head's hidden layers (CMG's MLP head), in order: `head_hidden_0`, `head_hidden_1`… */
export const HEAD_HIDDEN_PREFIX = "head_hidden_";
/** Prefix of the marker layers on each stage's output: `stage_0`, `stage_1`… */
export const STAGE_PREFIX = "stage_";

/** Scales a channel count by the width multiplier (at least 1 channel). */
export function scaled(channels: number, width: number): number {
  return Math.max(1, Math.round(channels * width));
}

/** Checks a width multiplier, throwing a descriptive error for anything but a positive finite number. */
export function checkWidth(width: number | undefined): number {
  const w = width ?? 1;
  if (!(w > 0) || !Number.isFinite(w)) throw new RangeError(`width must be a positive number, got ${width}`);
  return w;
}

/**
 * Inserts a no-op layer named `name` so the tensor can be found by name in a reloaded model. It is a reshape to
 * the same shape (zero-copy, and a new tensor, unlike a linear activation, which returns its input object and
 * would let `model.predict` dispose a tensor that is still needed).
 */
export function mark(x: Sym, name: string): Sym {
  return tf.layers.reshape({ targetShape: x.shape.slice(1) as number[], name }).apply(x) as Sym;
}

/** Weight initialisation schemes of the reference PyTorch code. */
export type ConvInit =
  /** `normal_(0, sqrt(2 / (k·k·out)))`: He et al. fan-out (DenseNet, WRN, CIDER's ResNet). */
  | "heFanOut"
  /** PyTorch's default `kaiming_uniform_(a=√5)`: U(±1/√fan_in) for the kernel and the bias. */
  | "torch"
  /** A plain normal with this standard deviation (CMG's `normal_(0, 0.05)`). */
  | { stddev: number };

/** PyTorch's default uniform bound 1/√fan_in as a TF.js initialiser. */
export function torchUniform(fanIn: number): Initializer {
  const bound = 1 / Math.sqrt(fanIn);
  return tf.initializers.randomUniform({ minval: -bound, maxval: bound });
}

function kernelInit(init: ConvInit, kernelSize: number, inChannels: number, filters: number) {
  if (init === "torch") return torchUniform(kernelSize * kernelSize * inChannels);
  const stddev = init === "heFanOut" ? Math.sqrt(2 / (kernelSize * kernelSize * filters)) : init.stddev;
  return tf.initializers.randomNormal({ mean: 0, stddev });
}

/** Options of {@link conv}. */
export interface ConvOptions {
  filters: number;
  kernelSize: number;
  /** @default 1 */
  strides?: number;
  /** Zero padding on every side, in PyTorch's sense. @default (kernelSize − 1) / 2 */
  padding?: number;
  /** @default false */
  useBias?: boolean;
  /** @default "heFanOut" */
  init?: ConvInit;
  name?: string;
}

/**
 * A 2-D convolution with PyTorch's padding semantics. Stride-1 convolutions with symmetric padding use
 * `"same"`; anything else pads explicitly and convolves `"valid"`, because TF's `"same"` with stride 2 pads
 * bottom/right only and would sample the image one pixel off from the PyTorch reference.
 */
export function conv(x: Sym, o: ConvOptions): Sym {
  const strides = o.strides ?? 1;
  const padding = o.padding ?? (o.kernelSize - 1) / 2;
  const inChannels = x.shape[x.shape.length - 1] as number;
  const init = o.init ?? "heFanOut";
  const same = padding > 0 && strides === 1 && padding * 2 === o.kernelSize - 1;
  const input = padding > 0 && !same ? tf.layers.zeroPadding2d({ padding }).apply(x) as Sym : x;
  return tf.layers.conv2d({
    filters: o.filters,
    kernelSize: o.kernelSize,
    strides,
    padding: same ? "same" : "valid",
    useBias: o.useBias ?? false,
    kernelInitializer: kernelInit(init, o.kernelSize, inChannels, o.filters),
    biasInitializer: init === "torch" ? torchUniform(o.kernelSize * o.kernelSize * inChannels) : "zeros",
    ...(o.name ? { name: o.name } : {}),
  }).apply(input) as Sym;
}

/** Options of {@link bn}. */
export interface BnOptions {
  /** Learn γ and β (PyTorch `affine`); false gives Unleashing Mask's NonAffineBatchNorm. @default true */
  affine?: boolean;
  /** Initialiser of γ; default ones (CMG draws it from N(1, 0.02)). */
  gammaInitializer?: Initializer;
}

/** Batch normalisation with PyTorch's defaults (momentum 0.1 ⇒ TF.js 0.9, ε = 1e-5), fused in training mode. */
export function bn(x: Sym, o: BnOptions = {}): Sym {
  const args = { momentum: 0.9, epsilon: 1e-5 };
  if (o.affine === false) return nonAffineBatchNormalization(args).apply(x) as Sym;
  const gamma = o.gammaInitializer ? { gammaInitializer: o.gammaInitializer } : {};
  return batchNormalization({ ...args, ...gamma }).apply(x) as Sym;
}

/** ReLU. */
export function relu(x: Sym): Sym {
  return tf.layers.reLU().apply(x) as Sym;
}

/** Global average pooling over height and width. */
export function gap(x: Sym, name?: string): Sym {
  return tf.layers.globalAveragePooling2d(name ? { name } : {}).apply(x) as Sym;
}

/** Element-wise dropout (`F.dropout`); a no-op for rate 0. */
export function dropout(x: Sym, rate: number): Sym {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${rate}`);
  return rate > 0 ? tf.layers.dropout({ rate }).apply(x) as Sym : x;
}

/** A named dense layer initialised like `nn.Linear` (U(±1/√fan_in); bias optionally zero), optionally with ReLU. */
export function dense(x: Sym, units: number, o: { name: string; zeroBias?: boolean; activation?: "relu" }): Sym {
  const fanIn = x.shape[x.shape.length - 1] as number;
  return tf.layers.dense({
    units,
    name: o.name,
    kernelInitializer: torchUniform(fanIn),
    biasInitializer: o.zeroBias ? "zeros" : torchUniform(fanIn),
    ...(o.activation ? { activation: o.activation } : {}),
  }).apply(x) as Sym;
}
