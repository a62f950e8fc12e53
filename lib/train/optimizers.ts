/**
 * Optimizers with PyTorch's update rules, as the five papers configure them (`torch.optim.SGD`, `torch.optim.Adam`),
 * working on a fixed, ordered list of TF.js variables and saving their slots through the checkpoint's
 * {@link OptimizerLike} interface.
 *
 * Why not `tf.train.*`: TF.js momentum has no PyTorch-style (coupled) weight decay and no dampening, its Nesterov
 * form is Keras's, and its Adam uses ε = 1e-7 inside a differently ordered update; the papers' numbers come from
 * PyTorch. The learning rate is a plain field (`learningRate`) so schedules can set it before every step.
 *
 * Weight decay follows PyTorch: an L2 term `wd·p` is added to the gradient before momentum (coupled), and by
 * default it applies to **every** parameter, biases and BatchNorm γ/β included — that is what `model.parameters()`
 * does in the ELOC, UM, CIDER and VMDLS training code. Pass `weightDecayFilter` (e.g. {@link decayOnlyKernels})
 * to exclude some variables, as hidden-networks' `--no_bn_decay` (UM's base) can.
 * @module
 */
import { tf } from "../tf.ts";
import type { NamedTensor, OptimizerLike } from "./checkpoint.ts";

/** What the training loop needs from an optimizer: slots for checkpoints, a settable rate, and an update. */
export interface TrainOptimizer extends OptimizerLike {
  /** The rate used by the next `applyGradients`; schedules set it before each step. */
  learningRate: number;
  /** The variables this optimizer updates, in slot order. */
  readonly variables: readonly tf.Variable[];
  /** One update from gradients keyed by variable name; variables without a gradient are left alone. */
  applyGradients(grads: tf.NamedTensorMap): void;
  /** Frees the slot variables. */
  dispose(): void;
}

/** Decides per variable whether weight decay applies (true = decay). */
export type WeightDecayFilter = (v: tf.Variable) => boolean;

/**
 * A {@link WeightDecayFilter} that decays kernels/weights only: not biases, not BatchNorm γ/β (TF.js names them
 * `…/bias`, `…/gamma`, `…/beta`). PyTorch's default (and the papers') is to decay everything.
 */
export const decayOnlyKernels: WeightDecayFilter = (v) => !/\/(bias|gamma|beta)(_\d+)?$/.test(v.name);

/** Options of {@link SGD} (the fields of `torch.optim.SGD`). */
export interface SgdOptions {
  /** Learning rate η. */
  lr: number;
  /** Momentum μ; default 0 (plain SGD). */
  momentum?: number;
  /** Dampening τ of the gradient in the momentum buffer; default 0. */
  dampening?: number;
  /** Nesterov momentum (PyTorch's form); needs μ > 0 and τ = 0. Default false. */
  nesterov?: boolean;
  /** Coupled L2 weight decay λ; default 0. */
  weightDecay?: number;
  /** Which variables weight decay applies to; default all (PyTorch). */
  weightDecayFilter?: WeightDecayFilter;
}

function checkVariables(variables: readonly tf.Variable[]): void {
  if (variables.length === 0) throw new Error("an optimizer needs at least one variable");
  const names = new Set<string>();
  for (const v of variables) {
    if (names.has(v.name)) throw new Error(`variable ${v.name} is listed twice`);
    names.add(v.name);
  }
}

function checkNonNegative(name: string, x: number): void {
  if (!(Number.isFinite(x) && x >= 0)) throw new Error(`${name} must be a finite number ≥ 0, got ${x}`);
}

/** Parses `p<index>/<slot>` slot names; throws on anything else. */
function parseSlot(
  name: string,
  count: number,
  slots: readonly string[],
  owner: string,
): { index: number; slot: string } {
  const m = /^p(\d+)\/(.+)$/.exec(name);
  const index = m ? Number(m[1]) : -1;
  if (!m || index >= count || !slots.includes(m[2]!)) {
    throw new Error(
      `${owner}.setWeights: unexpected slot "${name}" (expected p<0..${count - 1}>/{${slots.join(",")}})`,
    );
  }
  return { index, slot: m[2]! };
}

function checkShape(owner: string, name: string, t: tf.Tensor, v: tf.Variable): void {
  if (t.shape.join(",") !== v.shape.join(",")) {
    throw new Error(
      `${owner}.setWeights: slot ${name} has shape [${t.shape}], its variable ${v.name} has [${v.shape}]`,
    );
  }
}

/**
 * Stochastic gradient descent with PyTorch's `torch.optim.SGD` semantics. For each parameter p with gradient g:
 * ```
 * d ← g + λ·p                          (coupled weight decay, if λ ≠ 0 and the filter allows)
 * b ← d                                 (first step: the buffer is created as a copy)
 * b ← μ·b + (1 − τ)·d                   (later steps)
 * d ← d + μ·b   if Nesterov, else  d ← b (if μ ≠ 0)
 * p ← p − η·d
 * ```
 * @see {@link https://pytorch.org/docs/stable/generated/torch.optim.SGD.html | torch.optim.SGD}
 * @example Usage
 * ```ts ignore
 * const opt = new SGD(trainableVariables(model), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }); // ELOC
 * ```
 */
export class SGD implements TrainOptimizer {
  static readonly className = "TorchSGD";
  learningRate: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  readonly variables: readonly tf.Variable[];
  readonly #decay: boolean[];
  readonly #buffers: (tf.Variable | null)[];
  readonly #index: Map<string, number>;

  constructor(variables: readonly tf.Variable[], opts: SgdOptions) {
    checkVariables(variables);
    checkNonNegative("lr", opts.lr);
    this.learningRate = opts.lr;
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.nesterov = opts.nesterov ?? false;
    this.weightDecay = opts.weightDecay ?? 0;
    checkNonNegative("momentum", this.momentum);
    checkNonNegative("weightDecay", this.weightDecay);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new Error("Nesterov momentum requires a momentum > 0 and zero dampening (as in PyTorch)");
    }
    this.variables = [...variables];
    this.#decay = variables.map((v) => this.weightDecay !== 0 && (opts.weightDecayFilter?.(v) ?? true));
    this.#buffers = variables.map(() => null);
    this.#index = new Map(variables.map((v, i) => [v.name, i]));
  }

  applyGradients(grads: tf.NamedTensorMap): void {
    const lr = this.learningRate, mu = this.momentum;
    for (const name of Object.keys(grads)) {
      if (!this.#index.has(name)) throw new Error(`SGD: gradient for ${name}, which is not one of its variables`);
    }
    this.variables.forEach((p, i) => {
      const g = grads[p.name];
      if (!g) return;
      tf.tidy(() => {
        let d: tf.Tensor = this.#decay[i] ? tf.add(g, tf.mul(p, this.weightDecay)) : g;
        if (mu !== 0) {
          const buf = this.#buffers[i];
          let b: tf.Tensor;
          if (!buf) {
            b = d;
            this.#buffers[i] = tf.variable(d, false); // a variable holds its own reference; tidy frees d
          } else {
            b = tf.add(tf.mul(buf, mu), this.dampening ? tf.mul(d, 1 - this.dampening) : d);
            buf.assign(b);
          }
          d = this.nesterov ? tf.add(d, tf.mul(b, mu)) : b;
        }
        p.assign(tf.sub(p, tf.mul(d, lr)));
      });
    });
  }

  /** Momentum buffers that exist, named `p<index>/momentum_buffer`. */
  getWeights(): Promise<NamedTensor[]> {
    const out: NamedTensor[] = [];
    this.#buffers.forEach((b, i) => b && out.push({ name: `p${i}/momentum_buffer`, tensor: b }));
    return Promise.resolve(out);
  }

  /** Replaces all momentum buffers by copies of `weights` (from `getWeights`, possibly of another instance). */
  setWeights(weights: NamedTensor[]): Promise<void> {
    const next: (tf.Tensor | null)[] = this.variables.map(() => null);
    for (const { name, tensor } of weights) {
      const { index } = parseSlot(name, this.variables.length, ["momentum_buffer"], "SGD");
      checkShape("SGD", name, tensor, this.variables[index]!);
      next[index] = tensor;
    }
    // New variables first: a slot may be one of our own buffers (setWeights(getWeights())).
    const fresh = next.map((t) => (t ? tf.variable(t, false) : null));
    tf.dispose(this.#buffers.filter((b): b is tf.Variable => b !== null));
    fresh.forEach((b, i) => (this.#buffers[i] = b));
    return Promise.resolve();
  }

  getClassName(): string {
    return SGD.className;
  }

  getConfig(): tf.serialization.ConfigDict {
    return {
      lr: this.learningRate,
      momentum: this.momentum,
      dampening: this.dampening,
      nesterov: this.nesterov,
      weightDecay: this.weightDecay,
      decayed: this.#decay.filter(Boolean).length,
    };
  }

  dispose(): void {
    this.#buffers.forEach((b, i) => {
      b?.dispose();
      this.#buffers[i] = null;
    });
  }
}

/** Options of {@link Adam} (the fields of `torch.optim.Adam`, plus AdamW's decoupled decay). */
export interface AdamOptions {
  /** Learning rate η; PyTorch's default 1e-3. */
  lr?: number;
  /** β₁, β₂; default [0.9, 0.999]. */
  betas?: [number, number];
  /** ε; default 1e-8 (PyTorch; TF.js uses 1e-7). */
  eps?: number;
  /** Weight decay λ; default 0. */
  weightDecay?: number;
  /** false (default): L2 added to the gradient (`torch.optim.Adam`); true: decoupled (`torch.optim.AdamW`). */
  decoupled?: boolean;
  /** Which variables weight decay applies to; default all (PyTorch). */
  weightDecayFilter?: WeightDecayFilter;
}

/**
 * Adam with PyTorch's `torch.optim.Adam` semantics (and `AdamW` with `decoupled: true`). Per parameter, with its
 * own step count t:
 * ```
 * g ← g + λ·p                     (Adam: coupled L2)      p ← p·(1 − η·λ)  (AdamW: decoupled)
 * m ← β₁·m + (1 − β₁)·g
 * v ← β₂·v + (1 − β₂)·g²
 * p ← p − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 * ```
 * @see {@link https://pytorch.org/docs/stable/generated/torch.optim.Adam.html | torch.optim.Adam}
 * @see Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1.
 */
export class Adam implements TrainOptimizer {
  static readonly className = "TorchAdam";
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;
  readonly variables: readonly tf.Variable[];
  readonly #decay: boolean[];
  readonly #m: (tf.Variable | null)[];
  readonly #v: (tf.Variable | null)[];
  readonly #t: number[];
  readonly #index: Map<string, number>;
  #exported: tf.Tensor[] = [];

  constructor(variables: readonly tf.Variable[], opts: AdamOptions = {}) {
    checkVariables(variables);
    this.learningRate = opts.lr ?? 1e-3;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.decoupled = opts.decoupled ?? false;
    checkNonNegative("lr", this.learningRate);
    checkNonNegative("weightDecay", this.weightDecay);
    for (const [n, b] of [["beta1", this.beta1], ["beta2", this.beta2]] as const) {
      if (!(b >= 0 && b < 1)) throw new Error(`${n} must be in [0, 1), got ${b}`);
    }
    this.variables = [...variables];
    this.#decay = variables.map((v) => this.weightDecay !== 0 && (opts.weightDecayFilter?.(v) ?? true));
    this.#m = variables.map(() => null);
    this.#v = variables.map(() => null);
    this.#t = variables.map(() => 0);
    this.#index = new Map(variables.map((v, i) => [v.name, i]));
  }

  applyGradients(grads: tf.NamedTensorMap): void {
    const { learningRate: lr, beta1: b1, beta2: b2, eps } = this;
    for (const name of Object.keys(grads)) {
      if (!this.#index.has(name)) throw new Error(`Adam: gradient for ${name}, which is not one of its variables`);
    }
    this.variables.forEach((p, i) => {
      const g0 = grads[p.name];
      if (!g0) return;
      const t = ++this.#t[i]!;
      const bc1 = 1 - Math.pow(b1, t), bc2 = 1 - Math.pow(b2, t);
      tf.tidy(() => {
        let g: tf.Tensor = g0;
        let base: tf.Tensor = p;
        if (this.#decay[i]) {
          if (this.decoupled) base = tf.mul(p, 1 - lr * this.weightDecay);
          else g = tf.add(g, tf.mul(p, this.weightDecay));
        }
        if (!this.#m[i]) this.#m[i] = tf.variable(tf.zerosLike(p), false);
        if (!this.#v[i]) this.#v[i] = tf.variable(tf.zerosLike(p), false);
        const m = tf.add(tf.mul(this.#m[i]!, b1), tf.mul(g, 1 - b1));
        const v = tf.add(tf.mul(this.#v[i]!, b2), tf.mul(tf.square(g), 1 - b2));
        this.#m[i]!.assign(m);
        this.#v[i]!.assign(v);
        const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), eps);
        p.assign(tf.sub(base, tf.mul(tf.div(m, denom), lr / bc1)));
      });
    });
  }

  /** `p<i>/exp_avg`, `p<i>/exp_avg_sq` and `p<i>/step` (a float32 scalar) for every parameter that has taken a step. */
  getWeights(): Promise<NamedTensor[]> {
    tf.dispose(this.#exported);
    this.#exported = [];
    const out: NamedTensor[] = [];
    this.variables.forEach((_, i) => {
      if (!this.#m[i]) return;
      const step = tf.scalar(this.#t[i]!, "float32");
      this.#exported.push(step);
      out.push(
        { name: `p${i}/exp_avg`, tensor: this.#m[i]! },
        { name: `p${i}/exp_avg_sq`, tensor: this.#v[i]! },
        { name: `p${i}/step`, tensor: step },
      );
    });
    return Promise.resolve(out);
  }

  /** Replaces all moments and step counts by those in `weights`. */
  setWeights(weights: NamedTensor[]): Promise<void> {
    const slots = ["exp_avg", "exp_avg_sq", "step"];
    const found = this.variables.map(() => ({} as Record<string, tf.Tensor>));
    for (const { name, tensor } of weights) {
      const { index, slot } = parseSlot(name, this.variables.length, slots, "Adam");
      if (slot !== "step") checkShape("Adam", name, tensor, this.variables[index]!);
      found[index]![slot] = tensor;
    }
    found.forEach((f, i) => {
      const n = Object.keys(f).length;
      if (n !== 0 && n !== 3) throw new Error(`Adam.setWeights: parameter p${i} has ${n} of its 3 slots`);
    });
    // Everything new first: a slot may be one of our own tensors (setWeights(getWeights())).
    const steps = found.map((f) => (f.step ? Math.round(f.step.dataSync()[0]!) : 0));
    const m = found.map((f) => (f.exp_avg ? tf.variable(f.exp_avg, false) : null));
    const v = found.map((f) => (f.exp_avg_sq ? tf.variable(f.exp_avg_sq, false) : null));
    tf.dispose([...this.#m, ...this.#v].filter((x): x is tf.Variable => x !== null));
    steps.forEach((t, i) => {
      this.#m[i] = m[i]!;
      this.#v[i] = v[i]!;
      this.#t[i] = t;
    });
    return Promise.resolve();
  }

  getClassName(): string {
    return Adam.className;
  }

  getConfig(): tf.serialization.ConfigDict {
    return {
      lr: this.learningRate,
      betas: [this.beta1, this.beta2],
      eps: this.eps,
      weightDecay: this.weightDecay,
      decoupled: this.decoupled,
      decayed: this.#decay.filter(Boolean).length,
    };
  }

  dispose(): void {
    tf.dispose([...this.#m, ...this.#v].filter((x): x is tf.Variable => x !== null));
    tf.dispose(this.#exported);
    this.#exported = [];
    this.#m.fill(null);
    this.#v.fill(null);
    this.#t.fill(0);
  }
}

/** The trainable variables of a model, in `model.trainableWeights` order (what PyTorch's `model.parameters()` lists). */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}
