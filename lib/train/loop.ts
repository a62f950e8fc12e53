/**
 * The training loop every notebook uses: `tf.variableGrads` + an optimizer, not `model.fit`, so losses can be
 * anything (two-view contrastive, margin entropy, KL to class priors…).
 *
 * - **Modes**: the loss function is told `training: true`; it must call `model.apply(x, { training: true })` (or
 *   `backbone.logits(x, { training: true })`) so BatchNorm uses batch statistics and updates its moving averages
 *   and Dropout is active. Evaluation helpers here run with `training: false`.
 * - **Gradient accumulation**: `accumulate: k` averages the gradients of k micro-batches before one optimizer step
 *   (the wasm heap caps at 4 GiB); an epoch's last, shorter group is averaged over its own size.
 * - **Non-finite losses** stop the run with a {@link NonFiniteLossError} (epoch, batch, step, last finite loss);
 *   that batch's gradients are not applied.
 * - **Schedules**: the rate for each step comes from a pure function of (epoch, step) (`schedules.ts`).
 * - **Checkpoints and resume**: with `runDir`, a checkpoint is saved every `checkpointEvery` steps and at every
 *   epoch end; on start the newest one that verifies is loaded (a damaged newest one is passed over, saying so,
 *   for the one before it; when none is valid the error names what to remove): weights (into the given model), optimizer slots, epoch/step,
 *   position in the epoch, `Math.random`'s state and the batch source's random streams, plus the epoch's running
 *   sums. A run killed mid-epoch and resumed ends with the same weights, bit for bit, as one never interrupted.
 * @module
 */
import { tf } from "../tf.ts";
import { loadLatestValidCheckpoint, type OptimizerLike, saveCheckpoint, type TrainingState } from "./checkpoint.ts";
import { mathRandomState, restoreMathRandomState } from "./seed.ts";
import type { LrSchedule, SchedulePoint } from "./schedules.ts";
import { type BatchSource, disposeBatch, type EpochBatches, epochSource } from "./source.ts";
import { Progress, type ProgressOptions } from "../report/progress.ts";

/** What the loss function is told about the step it computes. */
export interface StepContext {
  /** Always true: call layers with `{ training: true }`. */
  readonly training: true;
  /** Epoch (0-based). */
  readonly epoch: number;
  /** Index of this (micro-)batch in the epoch (0-based). */
  readonly batchInEpoch: number;
  /** Optimizer steps completed before this batch's step. */
  readonly step: number;
  /** Learning rate of the step this batch contributes to. */
  readonly lr: number;
}

/**
 * What a loss function may return besides the scalar: `logits` + `labels` (int class ids, or one-hot) make the
 * loop track accuracy; `metrics` are extra scalars averaged over the epoch (e.g. CIDER's two loss terms).
 * Tensors returned here are kept past the gradient tape and disposed by the loop.
 */
export interface LossOutput {
  loss: tf.Scalar;
  logits?: tf.Tensor;
  labels?: tf.Tensor;
  metrics?: Record<string, tf.Scalar>;
}

/** Computes the (mean) loss of one batch; runs inside the gradient tape, so intermediate tensors are freed. */
export type LossFn<B> = (batch: B, ctx: StepContext) => tf.Scalar | LossOutput;

/** An optimizer the loop can drive: checkpointable slots and `applyGradients` (every `tf.train` optimizer fits). */
export interface LoopOptimizer extends OptimizerLike {
  applyGradients(grads: tf.NamedTensorMap): void;
}

/** Reported after every optimizer step. */
export interface StepInfo {
  epoch: number;
  /** Optimizer steps completed, this one included. */
  step: number;
  /** Steps completed in this epoch, this one included. */
  stepInEpoch: number;
  stepsPerEpoch?: number;
  /** Mean loss of this step's micro-batches. */
  loss: number;
  lr: number;
  /** Images in this step. */
  images: number;
  /** This step's metrics (means over its micro-batches). */
  metrics: Record<string, number>;
}

/** Reported after every epoch. */
export interface EpochInfo {
  /** Epoch just completed (0-based). */
  epoch: number;
  /** Optimizer steps completed since the start of the run. */
  step: number;
  /** Mean loss over the epoch's batches (before a resume included). */
  loss: number;
  /** Training accuracy over the epoch, when the loss function returns logits and labels. */
  accuracy?: number;
  /** Epoch means of the loss function's metrics. */
  metrics: Record<string, number>;
  /** Images of the whole epoch, those trained before a resume included. */
  images: number;
  /**
   * Images trained in this process (this session) during the epoch: `images` less those trained before the resume.
   * With `seconds`, the rate of this process (a resumed epoch's `images / seconds` would count work not done here).
   */
  sessionImages: number;
  /** Wall time of the part of the epoch run in this session. */
  seconds: number;
}

/** Returning "stop" from a callback ends the run after the current step (a checkpoint is saved first). */
export type CallbackResult = void | "stop" | Promise<void | "stop">;

/** Options of {@link trainLoop}. */
export interface TrainLoopOptions<B> {
  /** Total epochs of the run (a resumed run continues up to this). */
  epochs: number;
  optimizer: LoopOptimizer;
  /** Variables to differentiate; default the optimizer's `variables`, else the model's trainable weights. */
  variables?: tf.Variable[];
  /** Learning rate per step; applied through `learningRate` / `setLearningRate`. Default: leave the optimizer's. */
  schedule?: LrSchedule;
  /** Micro-batches per optimizer step; default 1. */
  accumulate?: number;
  /** Directory for checkpoints; enables saving and resuming. */
  runDir?: string;
  /** Save every N optimizer steps (besides each epoch end); default 0 = epoch ends only. */
  checkpointEvery?: number;
  /** Checkpoints to keep; default 2. */
  keep?: number;
  /** Resume from the newest checkpoint in `runDir`; default true. */
  resume?: boolean;
  /** The run's configuration, stored in every checkpoint. */
  config?: unknown;
  /** Caller state that must survive a resume (e.g. CIDER prototypes, VMDLS class means), as JSON. */
  state?: { save(): Record<string, unknown>; load(saved: Record<string, unknown>): void };
  /** Stop (with a checkpoint) once this many optimizer steps have been taken in total. */
  maxSteps?: number;
  onStep?: (info: StepInfo) => CallbackResult;
  onEpochEnd?: (info: EpochInfo) => CallbackResult;
  /** false: none; true/undefined: an automatic {@link Progress} per epoch; or options for it. */
  progress?: boolean | Omit<ProgressOptions, "total" | "label">;
  /** Images in a batch; default `x.shape[0]` of `{ x }` batches (else the batch's own first dimension, else 0). */
  batchSize?: (b: B) => number;
  /** Frees a batch after its step; default disposes the tensors among its properties. */
  dispose?: (b: B) => void;
  /** Where resume messages go; default `console.error`; null = silent. */
  log?: ((line: string) => void) | null;
}

/** The outcome of {@link trainLoop}. */
export interface TrainResult {
  /** Completed epochs. */
  epoch: number;
  /** Optimizer steps taken in total. */
  step: number;
  /** Epochs completed in this call. */
  epochs: EpochInfo[];
  /** The checkpoint the run continued from, if any. */
  resumedFrom: string | null;
  /** Why it ended. */
  stopped: "completed" | "maxSteps" | "callback";
}

/** The loss became NaN or ±Infinity. */
export class NonFiniteLossError extends Error {
  constructor(
    readonly value: number,
    readonly epoch: number,
    readonly batchInEpoch: number,
    readonly step: number,
    readonly lastFinite: { loss: number; step: number } | null,
  ) {
    const last = lastFinite
      ? `last finite loss ${lastFinite.loss} at step ${lastFinite.step}`
      : "no finite loss before it";
    super(
      `Loss is ${value} at epoch ${epoch} (0-based), batch ${batchInEpoch} of the epoch, optimizer step ${step}; ${last}. ` +
        `The batch's gradients were not applied. Lower the learning rate, check the inputs and the loss for log(0) or ` +
        `division by zero, or resume from the last checkpoint.`,
    );
    this.name = "NonFiniteLossError";
  }
}

/** Running sums of an epoch (saved in checkpoints so a resumed epoch reports the same means). */
interface EpochSums {
  loss: number;
  batches: number;
  correct: number;
  labeled: number;
  images: number;
  metrics: Record<string, number>;
}

const emptySums = (): EpochSums => ({ loss: 0, batches: 0, correct: 0, labeled: 0, images: 0, metrics: {} });

/** Loop-private part of the checkpoint's `extra`. */
interface LoopExtra {
  batchInEpoch: number;
  sums: EpochSums;
  lastFinite: { loss: number; step: number } | null;
}

function setLr(opt: LoopOptimizer, lr: number): void {
  const o = opt as unknown as { setLearningRate?: (lr: number) => void; learningRate?: number };
  if (typeof o.setLearningRate === "function") o.setLearningRate(lr);
  else if ("learningRate" in o) o.learningRate = lr;
  else {throw new Error(
      `${opt.getClassName()} has neither setLearningRate nor learningRate; a schedule cannot drive it`,
    );}
}

function currentLr(opt: LoopOptimizer): number {
  const lr = (opt as unknown as { learningRate?: number }).learningRate;
  return typeof lr === "number" ? lr : NaN;
}

function defaultBatchSize(b: unknown): number {
  const x = b && typeof b === "object" && "x" in b ? (b as { x: unknown }).x : b;
  return x instanceof tf.Tensor && x.rank > 0 ? x.shape[0]! : 0;
}

function isSource<B>(s: BatchSource<B> | EpochBatches<B>): s is BatchSource<B> {
  return typeof s === "object" && s !== null && typeof (s as BatchSource<B>).epoch === "function";
}

function asModel(m: tf.LayersModel | tf.Variable[]): tf.LayersModel | null {
  return Array.isArray(m) ? null : m;
}

/**
 * Trains `model` (or a list of variables) with `lossFn` over `source` for `opts.epochs` epochs.
 * @param model The network (saved in checkpoints; needed for `runDir`), or just the variables to train.
 * @param lossFn Mean loss of one batch; receives `training: true`.
 * @param source A {@link BatchSource} (resumable mid-epoch; see `datasetSource`) or a function epoch → batches.
 * @example Usage
 * ```ts ignore
 * const net = createBackbone("lenet", { numClasses: 10 });
 * const opt = new SGD(trainableVariables(net.model), { lr: 0.05, momentum: 0.9 });
 * const src = datasetSource(train, { batchSize: 128, normalization: net.normalization, seed: 0 });
 * await trainLoop(net.model, ({ x, y }, { training }) => {
 *   const logits = net.logits(x, { training });
 *   return { loss: tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), logits) as tf.Scalar, logits, labels: y };
 * }, src, { epochs: 1, optimizer: opt, runDir: "checkpoints/mnist", checkpointEvery: 100 });
 * ```
 */
export async function trainLoop<B>(
  model: tf.LayersModel | tf.Variable[],
  lossFn: LossFn<B>,
  source: BatchSource<B> | EpochBatches<B>,
  opts: TrainLoopOptions<B>,
): Promise<TrainResult> {
  const net = asModel(model);
  const src: BatchSource<B> = isSource(source) ? source : epochSource(source, { dispose: opts.dispose });
  const accumulate = opts.accumulate ?? 1;
  if (!Number.isInteger(accumulate) || accumulate < 1) {
    throw new Error(`accumulate must be a positive integer, got ${accumulate}`);
  }
  if (!Number.isInteger(opts.epochs) || opts.epochs < 0) {
    throw new Error(`epochs must be a non-negative integer, got ${opts.epochs}`);
  }
  if (opts.runDir && !net) throw new Error("checkpoints (runDir) need a tf.LayersModel, not a list of variables");
  const every = opts.checkpointEvery ?? 0;
  const variables = opts.variables ??
    (opts.optimizer as { variables?: readonly tf.Variable[] }).variables?.slice() ??
    (net ? net.trainableWeights.map((w) => w.read() as tf.Variable) : (model as tf.Variable[]));
  const batchSize = opts.batchSize ?? defaultBatchSize;
  const dispose = opts.dispose ?? disposeBatch;
  const log = opts.log === undefined ? (l: string) => console.error(l) : opts.log;

  let epoch = 0, step = 0, skip = 0;
  let sums = emptySums();
  let lastFinite: LoopExtra["lastFinite"] = null;
  let resumedFrom: string | null = null;

  if (opts.runDir && opts.resume !== false) {
    const found = await loadLatestValidCheckpoint(opts.runDir, { optimizer: opts.optimizer });
    for (const d of found?.damaged ?? []) {
      log?.(`[train] checkpoint ${d.path} is damaged (${d.error.message}); trying the one before it`);
    }
    if (found) {
      const { loaded } = found, path = loaded.path;
      try {
        const saved = loaded.model.getWeights();
        const mine = net!.getWeights();
        if (saved.length !== mine.length || saved.some((w, i) => w.shape.join() !== mine[i]!.shape.join())) {
          throw new Error(
            `${path} holds a model with different weights (${saved.length} tensors) than this one (${mine.length})`,
          );
        }
        net!.setWeights(saved);
      } finally {
        loaded.model.dispose();
      }
      const st = loaded.state;
      // After the model was rebuilt from JSON (its initialisers drew from Math.random).
      if (st.mathRandom) restoreMathRandomState(st.mathRandom);
      src.setState?.(st.streams);
      const extra = (st.extra ?? {}) as { loop?: LoopExtra; user?: Record<string, unknown> };
      epoch = st.epoch;
      step = st.step;
      skip = extra.loop?.batchInEpoch ?? 0;
      sums = extra.loop?.sums ?? emptySums();
      lastFinite = extra.loop?.lastFinite ?? null;
      if (extra.user && opts.state) opts.state.load(extra.user);
      resumedFrom = path;
      log?.(
        `[train] resumed from ${found.damaged.length ? "the previous valid checkpoint, " : ""}${path}: ` +
          `epoch ${epoch} (0-based), batch ${skip}, step ${step}`,
      );
    }
  }

  const save = async (batchInEpoch: number) => {
    if (!opts.runDir) return;
    const loop: LoopExtra = { batchInEpoch, sums, lastFinite };
    const state: TrainingState = {
      epoch,
      step,
      mathRandom: mathRandomState(),
      streams: src.getState?.() ?? {},
      config: opts.config ?? null,
      extra: { loop, ...(opts.state ? { user: opts.state.save() } : {}) },
    };
    await saveCheckpoint(opts.runDir, { model: net!, optimizer: opts.optimizer, state }, { keep: opts.keep });
  };

  const epochs: EpochInfo[] = [];
  let stopped: TrainResult["stopped"] = "completed";
  if (opts.maxSteps !== undefined && step >= opts.maxSteps && epoch < opts.epochs) stopped = "maxSteps";

  while (epoch < opts.epochs && stopped === "completed") {
    const nBatches = src.length?.(epoch);
    const stepsPerEpoch = nBatches === undefined ? undefined : Math.ceil(nBatches / accumulate);
    const point = (stepInEpoch: number): SchedulePoint => ({ epoch, stepInEpoch, stepsPerEpoch, step });
    const progress = opts.progress === false ? null : new Progress({
      ...(typeof opts.progress === "object" ? opts.progress : {}),
      total: stepsPerEpoch,
      label: `epoch ${epoch + 1}/${opts.epochs}`,
    });
    const t0 = performance.now();
    let imagesHere = 0;
    let batchInEpoch = skip;
    let grads: tf.NamedTensorMap | null = null;
    let group = { n: 0, loss: 0, images: 0, metrics: {} as Record<string, number> };

    const applyStep = async (): Promise<"stop" | void> => {
      if (!grads) return;
      const n = group.n;
      const g: tf.NamedTensorMap = grads;
      grads = null;
      if (n > 1) {
        for (const [k, v] of Object.entries(g)) {
          g[k] = tf.div(v, n);
          v.dispose();
        }
      }
      const lr = currentLr(opts.optimizer);
      opts.optimizer.applyGradients(g);
      tf.dispose(Object.values(g));
      step++;
      const stepInEpoch = Math.ceil(batchInEpoch / accumulate);
      const info: StepInfo = {
        epoch,
        step,
        stepInEpoch,
        stepsPerEpoch,
        loss: group.loss / n,
        lr,
        images: group.images,
        metrics: Object.fromEntries(Object.entries(group.metrics).map(([k, v]) => [k, v / n])),
      };
      group = { n: 0, loss: 0, images: 0, metrics: {} };
      await progress?.update({
        done: stepInEpoch,
        loss: sums.loss / sums.batches,
        accuracy: sums.labeled ? sums.correct / sums.labeled : undefined,
        images: imagesHere || undefined,
        metrics: {
          ...Object.fromEntries(Object.entries(sums.metrics).map(([k, v]) => [k, v / sums.batches])),
          ...(Number.isFinite(lr) ? { lr } : {}),
        },
      });
      const r = await opts.onStep?.(info);
      const partial = nBatches === undefined || batchInEpoch < nBatches;
      if (r === "stop" || (opts.maxSteps !== undefined && step >= opts.maxSteps)) {
        if (partial) await save(batchInEpoch);
        return "stop";
      }
      if (every > 0 && step % every === 0 && partial) await save(batchInEpoch);
    };

    let stopNow = false;
    for await (const batch of src.epoch(epoch, skip)) {
      try {
        const stepInEpoch = Math.floor(batchInEpoch / accumulate);
        if (group.n === 0 && opts.schedule) setLr(opts.optimizer, opts.schedule(point(stepInEpoch)));
        const ctx: StepContext = { training: true, epoch, batchInEpoch, step, lr: currentLr(opts.optimizer) };
        let extras: { correct?: tf.Scalar; total: number; metrics: Record<string, tf.Scalar> } = {
          total: 0,
          metrics: {},
        };
        const { value, grads: g } = tf.variableGrads(() => {
          const out = lossFn(batch, ctx);
          if (out instanceof tf.Tensor) return out;
          extras = { total: 0, metrics: {} };
          if (out.logits && out.labels) {
            const logits = out.logits, labels = out.labels;
            extras.correct = tf.keep(tf.tidy(() => {
              const truth = labels.rank === logits.rank ? tf.argMax(labels, -1) : labels;
              return tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), tf.cast(truth, "int32")), "float32")) as tf.Scalar;
            }));
            extras.total = out.labels.shape[0] ?? 0;
          }
          for (const [k, v] of Object.entries(out.metrics ?? {})) extras.metrics[k] = tf.keep(v);
          return out.loss;
        }, variables);
        const loss = (await value.data())[0]!;
        const correct = extras.correct ? (await extras.correct.data())[0]! : 0;
        const metricValues: Record<string, number> = {};
        for (const [k, v] of Object.entries(extras.metrics)) metricValues[k] = (await v.data())[0]!;
        tf.dispose([value, ...(extras.correct ? [extras.correct] : []), ...Object.values(extras.metrics)]);
        if (!Number.isFinite(loss)) {
          tf.dispose(Object.values(g).filter((t) => t));
          throw new NonFiniteLossError(loss, epoch, batchInEpoch, step, lastFinite);
        }
        lastFinite = { loss, step };
        // Non-trainable variables come back with null gradients: leave them out.
        const fresh: tf.NamedTensorMap = {};
        for (const [k, v] of Object.entries(g)) if (v) fresh[k] = v;
        if (grads === null) grads = fresh;
        else {
          const acc: tf.NamedTensorMap = grads;
          for (const [k, v] of Object.entries(fresh)) {
            const prev = acc[k];
            acc[k] = prev ? tf.add(prev, v) : v;
            if (prev) tf.dispose([prev, v]);
          }
        }
        const images = batchSize(batch);
        group.n++;
        group.loss += loss;
        group.images += images;
        sums.loss += loss;
        sums.batches++;
        sums.correct += correct;
        sums.labeled += extras.total;
        sums.images += images;
        imagesHere += images;
        for (const [k, v] of Object.entries(metricValues)) {
          group.metrics[k] = (group.metrics[k] ?? 0) + v;
          sums.metrics[k] = (sums.metrics[k] ?? 0) + v;
        }
      } catch (e) {
        if (grads) tf.dispose(Object.values(grads));
        grads = null;
        throw e;
      } finally {
        dispose(batch);
      }
      batchInEpoch++;
      if (group.n === accumulate && (await applyStep()) === "stop") {
        stopNow = true;
        break;
      }
    }
    if (!stopNow && group.n > 0 && (await applyStep()) === "stop") stopNow = true;
    if (stopNow && (nBatches === undefined || batchInEpoch < nBatches)) {
      await progress?.finish();
      stopped = opts.maxSteps !== undefined && step >= opts.maxSteps ? "maxSteps" : "callback";
      break;
    }
    await progress?.finish();
    const info: EpochInfo = {
      epoch,
      step,
      loss: sums.batches ? sums.loss / sums.batches : NaN,
      accuracy: sums.labeled ? sums.correct / sums.labeled : undefined,
      metrics: Object.fromEntries(Object.entries(sums.metrics).map(([k, v]) => [k, v / sums.batches])),
      images: sums.images,
      sessionImages: imagesHere,
      seconds: (performance.now() - t0) / 1000,
    };
    epochs.push(info);
    const r = await opts.onEpochEnd?.(info);
    epoch++;
    skip = 0;
    sums = emptySums();
    await save(0);
    if (stopNow || r === "stop") {
      stopped = stopNow && opts.maxSteps !== undefined && step >= opts.maxSteps ? "maxSteps" : "callback";
    }
  }
  return { epoch, step, epochs, resumedFrom, stopped };
}

/**
 * Top-1 accuracy of a classifier over labelled batches, in inference mode (`training: false`); disposes the batches.
 * @param logits Maps a batch of inputs to logits `[N, C]`, e.g. `(x) => backbone.logits(x)`.
 */
export async function evaluateAccuracy(
  logits: (x: tf.Tensor4D) => tf.Tensor,
  batches: Iterable<{ x: tf.Tensor4D; y: tf.Tensor1D }> | AsyncIterable<{ x: tf.Tensor4D; y: tf.Tensor1D }>,
): Promise<{ accuracy: number; correct: number; count: number }> {
  let correct = 0, count = 0;
  for await (const b of batches) {
    try {
      const hits = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits(b.x), -1), tf.cast(b.y, "int32")), "int32")));
      correct += (await hits.data())[0]!;
      hits.dispose();
      count += b.y.shape[0];
    } finally {
      tf.dispose([b.x, b.y]);
    }
  }
  return { accuracy: count ? correct / count : NaN, correct, count };
}
