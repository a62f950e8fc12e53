/**
 * Learning-rate schedules as pure functions of the training position, so that a resumed run gets exactly the rate
 * an uninterrupted one would have had (nothing to save in a checkpoint). The loop evaluates the schedule before
 * every optimizer step; "per-epoch" schedules simply ignore the position inside the epoch, as PyTorch's
 * epoch-level `scheduler.step()` does.
 *
 * | paper | schedule | here |
 * |---|---|---|
 * | ELOC | SGD 0.1, ×0.1 at epochs 50 and 75 (`MultiStepLR`) | `multiStepLr({ lr: 0.1, milestones: [50, 75] })` |
 * | VMDLS | `StepLR(step_size, 0.1)` | `stepLr({ lr, stepSize, gamma: 0.1 })` |
 * | UM / UMAP | hidden-networks `cosine_lr` per epoch | `hiddenNetworksCosineLr({ lr: 0.1, epochs: 100 })` |
 * | CIDER | SupCon warm-up + cosine, (epoch − 1) quirk | `ciderLr({ lr: 0.5, epochs: 500, variant: "faithful" })` |
 * | CMG | constant Adam 1e-4 | `constantLr(1e-4)` |
 * @module
 */

/** Where training is when the rate is needed. All counters are 0-based. */
export interface SchedulePoint {
  /** Epoch being trained (0-based). */
  epoch: number;
  /** Optimizer steps taken in this epoch before the current one (0-based index of the current step). */
  stepInEpoch: number;
  /** Optimizer steps per epoch, when the batch source knows its length. */
  stepsPerEpoch?: number;
  /** Optimizer steps taken since the start of the run (0-based index of the current step). */
  step: number;
}

/** A learning-rate schedule: the rate for the optimizer step at `p`. */
export type LrSchedule = (p: SchedulePoint) => number;

function positive(name: string, x: number): void {
  if (!(Number.isFinite(x) && x > 0)) throw new Error(`${name} must be a finite number > 0, got ${x}`);
}

function stepsPerEpochOf(p: SchedulePoint, who: string): number {
  const n = p.stepsPerEpoch;
  if (!(n !== undefined && Number.isInteger(n) && n > 0)) {
    throw new Error(`${who} needs the number of steps per epoch; give the batch source a length`);
  }
  return n;
}

/** A constant rate. */
export function constantLr(lr: number): LrSchedule {
  return () => lr;
}

/**
 * PyTorch `StepLR`, stepped once per epoch: η_e = η₀ · γ^⌊e / stepSize⌋.
 * @see {@link https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.StepLR.html | StepLR}
 */
export function stepLr(opts: { lr: number; stepSize: number; gamma?: number }): LrSchedule {
  positive("stepSize", opts.stepSize);
  const gamma = opts.gamma ?? 0.1;
  return (p) => opts.lr * Math.pow(gamma, Math.floor(p.epoch / opts.stepSize));
}

/**
 * PyTorch `MultiStepLR`, stepped once per epoch: η_e = η₀ · γ^|{m ∈ milestones : m ≤ e}|
 * (ELOC: η₀ = 0.1, milestones 50 and 75, γ = 0.1, so epochs 0–49 use 0.1, 50–74 0.01, 75– 0.001).
 * @see {@link https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.MultiStepLR.html | MultiStepLR}
 */
export function multiStepLr(opts: { lr: number; milestones: readonly number[]; gamma?: number }): LrSchedule {
  const gamma = opts.gamma ?? 0.1;
  const ms = [...opts.milestones];
  return (p) => opts.lr * Math.pow(gamma, ms.filter((m) => m <= p.epoch).length);
}

/** Options of {@link cosineLr}. */
export interface CosineOptions {
  /** Initial rate η_max. */
  lr: number;
  /** Half-period T_max, in `unit`s. */
  tMax: number;
  /** Floor η_min; default 0. */
  etaMin?: number;
  /** "epoch" (default; PyTorch's usual per-epoch `scheduler.step()`) or "step" (per optimizer step). */
  unit?: "epoch" | "step";
}

/**
 * Cosine annealing in PyTorch `CosineAnnealingLR`'s closed form:
 * η_t = η_min + (η_max − η_min) · (1 + cos(π · t / T_max)) / 2, with t the epoch (or step) index.
 * @see {@link https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.CosineAnnealingLR.html | CosineAnnealingLR}
 * @see Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017, Eq. 5.
 */
export function cosineLr(opts: CosineOptions): LrSchedule {
  positive("tMax", opts.tMax);
  const etaMin = opts.etaMin ?? 0;
  const perStep = (opts.unit ?? "epoch") === "step";
  return (p) => etaMin + (opts.lr - etaMin) * (1 + Math.cos(Math.PI * (perStep ? p.step : p.epoch) / opts.tMax)) / 2;
}

/** Options of {@link linearWarmup}. */
export interface WarmupOptions {
  /** Warm-up length in `unit`s. */
  length: number;
  /** "step" (default) or "epoch". */
  unit?: "epoch" | "step";
  /** Factor at t = 0; default 0. */
  startFactor?: number;
}

/**
 * Linear warm-up in front of another schedule, PyTorch `LinearLR` style (as a multiplier):
 * η_t = after(t) · (f₀ + (1 − f₀) · min(t, L) / L), with t the step (or epoch) index and L the length.
 * @see {@link https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.LinearLR.html | LinearLR}
 */
export function linearWarmup(after: LrSchedule, opts: WarmupOptions): LrSchedule {
  positive("length", opts.length);
  const f0 = opts.startFactor ?? 0;
  const perStep = (opts.unit ?? "step") === "step";
  return (p) => {
    const t = perStep ? p.step : p.epoch;
    return after(p) * (f0 + (1 - f0) * Math.min(t, opts.length) / opts.length);
  };
}

/**
 * UM/UMAP's per-epoch schedule (hidden-networks `cosine_lr`, used with `lr_policy: cosine_lr`):
 * for e < W: η = η₀ · (e + 1) / W; afterwards η = ½ · (1 + cos(π · (e − W) / (E − W))) · η₀, with W the
 * warm-up length in epochs (default 0) and E the number of epochs. With W = 0 it equals {@link cosineLr} with
 * η_min = 0 and T_max = E.
 */
export function hiddenNetworksCosineLr(opts: { lr: number; epochs: number; warmupLength?: number }): LrSchedule {
  const w = opts.warmupLength ?? 0;
  positive("epochs", opts.epochs - w);
  return (p) =>
    p.epoch < w
      ? opts.lr * (p.epoch + 1) / w
      : 0.5 * (1 + Math.cos(Math.PI * (p.epoch - w) / (opts.epochs - w))) * opts.lr;
}

/** Options of {@link ciderLr}. */
export interface CiderLrOptions {
  /** Base rate (`--learning_rate`; CIDER CIFAR 0.5). */
  lr: number;
  /** Total epochs (`--epochs`; 500). */
  epochs: number;
  /** Cosine (true, the scripts' `--cosine`) or multi-step decay at `decayEpochs`. Default true. */
  cosine?: boolean;
  /** `--lr_decay_rate`; default 0.1 (also gives η_min = η₀ · rate³ for cosine). */
  decayRate?: number;
  /** `--lr_decay_epochs` for the step variant; default [100, 150, 180]. */
  decayEpochs?: readonly number[];
  /** Warm-up on/off; CIDER turns it on when the batch is > 256. Default true. */
  warm?: boolean;
  /** Warm-up epochs; default 10. */
  warmEpochs?: number;
  /** Warm-up start rate; default 0.001. */
  warmupFrom?: number;
  /**
   * "faithful" (default) reproduces the repo: epochs count from 0 but the warm-up uses (epoch − 1), so the
   * rate is negative for most of epoch 0 and the warm-up lasts warmEpochs + 1 epochs. "fixed" is what SupCon
   * (1-based epochs) intended: a ramp over epochs 0 … warmEpochs − 1.
   */
  variant?: "faithful" | "fixed";
}

/**
 * CIDER's schedule (`utils/util.py` `adjust_learning_rate` once per epoch, then `warmup_learning_rate` before every
 * step), with epoch e counted from 0 as in `train_cider.py`:
 * - decay: cosine η_e = η_min + (η₀ − η_min)(1 + cos(π e / E)) / 2 with η_min = η₀ · r³; or step η₀ · r^|{d : e > d}|.
 * - warm-up (if on and e ≤ W in the faithful variant, e < W when fixed), with b the batch index and T the batches
 *   per epoch: p = (b + (e − 1) · T) / (W · T) faithful, (b + e · T) / (W · T) fixed;
 *   η = η_from + p · (η_to − η_from), where η_to = η_min + (η₀ − η_min)(1 + cos(π W / E)) / 2 (cosine) or η₀.
 *
 * Faithful quirk: in epoch 0, p = (b − T)/(W·T) < 0, so η < η_from and is **negative** for b < T − W·T·η_from/(η_to − η_from)
 * (with the defaults: all but the last ~2 % of the batches of epoch 0).
 */
export function ciderLr(opts: CiderLrOptions): LrSchedule {
  const r = opts.decayRate ?? 0.1;
  const cosine = opts.cosine ?? true;
  const warm = opts.warm ?? true;
  const W = opts.warmEpochs ?? 10;
  const from = opts.warmupFrom ?? 0.001;
  const faithful = (opts.variant ?? "faithful") === "faithful";
  const decayEpochs = [...(opts.decayEpochs ?? [100, 150, 180])];
  const etaMin = opts.lr * r ** 3;
  const decayed = (e: number) =>
    cosine
      ? etaMin + (opts.lr - etaMin) * (1 + Math.cos(Math.PI * e / opts.epochs)) / 2
      : opts.lr * r ** decayEpochs.filter((d) => e > d).length;
  const to = cosine ? decayed(W) : opts.lr;
  return (p) => {
    const inWarmup = warm && (faithful ? p.epoch <= W : p.epoch < W);
    if (!inWarmup) return decayed(p.epoch);
    const T = stepsPerEpochOf(p, "ciderLr warm-up");
    const prog = (p.stepInEpoch + (faithful ? p.epoch - 1 : p.epoch) * T) / (W * T);
    return from + prog * (to - from);
  };
}
