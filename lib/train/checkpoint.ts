/**
 * Checkpoints: a model in the standard TF.js layers format plus everything needed to resume training.
 *
 * ```
 * checkpoints/<run>/
 *   LATEST                 name of the newest complete checkpoint (replaced atomically)
 *   step-000001200/
 *     model.json           TF.js layers format; `tf.loadLayersModel("file://…/model.json")` loads it anywhere
 *     weights.bin
 *     optimizer.json       optimizer class, config and slot specs (momentum, Adam moments, iterations)
 *     optimizer.bin
 *     state.json           epoch, step, random-stream states, the run's config, extras
 *     manifest.json        size and SHA-256 of every file above; written last
 * ```
 * A checkpoint is written into a temporary directory and renamed into place only when complete, so a failed
 * save never replaces a valid checkpoint. Loading verifies sizes and hashes and names the first bad file.
 * @module
 */
import { join } from "node:path";
import { tf } from "../tf.ts";
import type { RngState } from "../data/rng.ts";
import { sha256Hex, temporarySibling, writeFileAtomic, writeFileSynced } from "../io/atomic.ts";
import { UserError } from "../user_error.ts";

/** What besides the weights a run needs to continue exactly where it stopped. */
export interface TrainingState {
  /** Completed epochs. */
  epoch: number;
  /** Optimizer steps taken since the start of the run. */
  step: number;
  /** The seeded `Math.random` stream (see lib/train/seed.ts), or null if the run did not seed it. */
  mathRandom: RngState | null;
  /** Named random streams of the data pipeline (shuffling, augmentation…). */
  streams: Record<string, RngState>;
  /** The run's configuration, as JSON. */
  config: unknown;
  /** Anything else the caller wants back (loss history, best metric…), as JSON. */
  extra?: Record<string, unknown>;
}

/**
 * A checkpoint file that is missing, truncated, corrupt or inconsistent. A user error (`lib/user_error.ts`): the
 * command line prints it without a stack trace; `hint` says what to do (e.g. which directory to remove).
 */
export class CheckpointError extends UserError {
  constructor(readonly file: string, readonly problem: string, hint?: string) {
    super(`${file}: ${problem}`, hint);
    this.name = "CheckpointError";
  }
}

const FORMAT = "ood-notebooks-checkpoint/1";
const LATEST = "LATEST";
const MANIFEST = "manifest.json";
const NAME = /^step-(\d{9,})$/;

interface Manifest {
  format: string;
  files: Record<string, { bytes: number; sha256: string }>;
}

/** An optimizer slot: a named tensor, as `tf.Optimizer.getWeights()` returns them. */
export type NamedTensor = Awaited<ReturnType<tf.Optimizer["getWeights"]>>[number];

/** Anything with TF.js's optimizer weight API (every `tf.train` optimizer has it). */
export interface OptimizerLike {
  getWeights(): Promise<NamedTensor[]>;
  setWeights(weights: NamedTensor[]): Promise<void>;
  getClassName(): string;
  getConfig(): tf.serialization.ConfigDict;
}

/** Directory name of the checkpoint taken after `step` optimizer steps. */
export function checkpointName(step: number): string {
  if (!Number.isInteger(step) || step < 0) {
    throw new Error(`checkpoint step must be a non-negative integer, got ${step}`);
  }
  return `step-${String(step).padStart(9, "0")}`;
}

async function modelFiles(model: tf.LayersModel): Promise<Record<string, Uint8Array>> {
  let files: Record<string, Uint8Array> | null = null;
  await model.save(tf.io.withSaveHandler((artifacts) => {
    const { weightData, weightSpecs, ...rest } = artifacts;
    const weights = weightData ? new Uint8Array(tf.io.CompositeArrayBuffer.join(weightData)) : new Uint8Array();
    const json = { ...rest, weightsManifest: [{ paths: ["./weights.bin"], weights: weightSpecs ?? [] }] };
    files = { "model.json": new TextEncoder().encode(JSON.stringify(json)), "weights.bin": weights };
    return Promise.resolve({ modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) });
  }));
  return files!;
}

async function optimizerFiles(optimizer: OptimizerLike): Promise<Record<string, Uint8Array>> {
  const slots = await optimizer.getWeights();
  const { data, specs } = await tf.io.encodeWeights(slots);
  const json = { className: optimizer.getClassName(), config: optimizer.getConfig(), weightSpecs: specs };
  return {
    "optimizer.json": new TextEncoder().encode(JSON.stringify(json)),
    "optimizer.bin": new Uint8Array(data),
  };
}

/**
 * Saves `model`, the optimizer's slots and `state` as `checkpoints`-style directory `runDir/step-…`, then
 * points LATEST at it and prunes all but the newest `keep` checkpoints (default 2). Returns its path.
 */
export async function saveCheckpoint(
  runDir: string,
  parts: { model: tf.LayersModel; optimizer?: OptimizerLike; state: TrainingState },
  opts: { keep?: number } = {},
): Promise<string> {
  const keep = opts.keep ?? 2;
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`keep must be a positive integer, got ${keep}`);
  const name = checkpointName(parts.state.step);
  const target = join(runDir, name);
  await Deno.mkdir(runDir, { recursive: true });
  const staging = temporarySibling(target);
  await Deno.mkdir(staging);
  try {
    const files: Record<string, Uint8Array> = {
      ...await modelFiles(parts.model),
      ...(parts.optimizer ? await optimizerFiles(parts.optimizer) : {}),
      "state.json": new TextEncoder().encode(JSON.stringify({ format: FORMAT, ...parts.state }, null, 1)),
    };
    const manifest: Manifest = { format: FORMAT, files: {} };
    for (const [file, bytes] of Object.entries(files)) {
      await writeFileSynced(join(staging, file), bytes);
      manifest.files[file] = { bytes: bytes.length, sha256: await sha256Hex(bytes) };
    }
    await writeFileSynced(join(staging, MANIFEST), JSON.stringify(manifest, null, 1));
    await replaceDirectory(staging, target);
  } catch (e) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw e;
  }
  await writeFileAtomic(join(runDir, LATEST), name + "\n");
  await prune(runDir, keep);
  return target;
}

/** Renames `staging` to `target`; an existing `target` is moved aside first and removed only afterwards. */
async function replaceDirectory(staging: string, target: string): Promise<void> {
  let old: string | null = null;
  try {
    await Deno.stat(target);
    old = temporarySibling(target) + ".old";
    await Deno.rename(target, old);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await Deno.rename(staging, target);
  if (old) await Deno.remove(old, { recursive: true });
}

async function completeCheckpoints(runDir: string): Promise<{ name: string; step: number }[]> {
  const found: { name: string; step: number }[] = [];
  try {
    for await (const e of Deno.readDir(runDir)) {
      const m = NAME.exec(e.name);
      if (!e.isDirectory || !m) continue;
      try {
        await Deno.stat(join(runDir, e.name, MANIFEST));
        found.push({ name: e.name, step: Number(m[1]) });
      } catch { /* incomplete: no manifest */ }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return found.sort((a, b) => a.step - b.step);
}

async function prune(runDir: string, keep: number): Promise<void> {
  const all = await completeCheckpoints(runDir);
  for (const { name } of all.slice(0, Math.max(0, all.length - keep))) {
    await Deno.remove(join(runDir, name), { recursive: true });
  }
  for await (const e of Deno.readDir(runDir)) {
    if (e.isDirectory && /\.tmp-\d+-/.test(e.name)) {
      // Left behind by a process that died mid-save; ours are renamed or removed before we get here.
      const pid = Number(/\.tmp-(\d+)-/.exec(e.name)![1]);
      if (pid !== Deno.pid) await Deno.remove(join(runDir, e.name), { recursive: true }).catch(() => {});
    }
  }
}

/** Path of the newest complete checkpoint in `runDir` (by LATEST, else by scanning), or null if none. */
export async function latestCheckpoint(runDir: string): Promise<string | null> {
  try {
    const name = (await Deno.readTextFile(join(runDir, LATEST))).trim();
    if (NAME.test(name)) {
      await Deno.stat(join(runDir, name, MANIFEST));
      return join(runDir, name);
    }
  } catch { /* missing or stale LATEST: fall back to scanning */ }
  const all = await completeCheckpoints(runDir);
  return all.length ? join(runDir, all[all.length - 1]!.name) : null;
}

/** A checkpoint that failed verification and was passed over by {@link loadLatestValidCheckpoint}. */
export interface DamagedCheckpoint {
  /** The checkpoint directory. */
  path: string;
  /** Why it was refused (names the bad file). */
  error: CheckpointError;
}

/**
 * Loads the newest checkpoint of `runDir` that verifies, newest first (LATEST's, then the others by step):
 * a damaged newest checkpoint (a truncated or replaced file, say) does not stop a resume while an earlier valid
 * one remains (`saveCheckpoint` keeps two). `damaged` lists what was passed over, so the caller can say so.
 *
 * @returns null when `runDir` has no complete checkpoint at all.
 * @throws CheckpointError, with a hint naming the directory to remove, when every checkpoint is damaged.
 */
export async function loadLatestValidCheckpoint(
  runDir: string,
  opts: { optimizer?: OptimizerLike } = {},
): Promise<{ loaded: LoadedCheckpoint; damaged: DamagedCheckpoint[] } | null> {
  const latest = await latestCheckpoint(runDir);
  if (!latest) return null;
  const others = (await completeCheckpoints(runDir)).reverse().map((c) => join(runDir, c.name));
  const damaged: DamagedCheckpoint[] = [];
  for (const path of [latest, ...others.filter((p) => p !== latest)]) {
    try {
      return { loaded: await loadCheckpoint(path, opts), damaged };
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      damaged.push({ path, error: e });
    }
  }
  const first = damaged[0]!.error;
  const dirs = damaged.map((d) => d.path).join(", ");
  throw new CheckpointError(
    first.file,
    first.problem,
    `No valid checkpoint is left in ${runDir}. Remove ${
      damaged.length === 1 ? "the damaged checkpoint" : "the damaged checkpoints"
    } (${dirs}), or all of ${runDir} to train from the start.`,
  );
}

async function readVerified(dir: string, manifest: Manifest, file: string): Promise<Uint8Array> {
  const path = join(dir, file);
  const expected = manifest.files[file];
  if (!expected) throw new CheckpointError(path, "not listed in manifest.json");
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new CheckpointError(path, `cannot be read (${(e as Error).message})`);
  }
  if (bytes.length !== expected.bytes) {
    throw new CheckpointError(
      path,
      `is ${bytes.length} bytes, manifest says ${expected.bytes} (truncated or replaced)`,
    );
  }
  if (await sha256Hex(bytes) !== expected.sha256) {
    throw new CheckpointError(path, "SHA-256 does not match manifest.json (corrupt)");
  }
  return bytes;
}

function parseJson<T>(path: string, bytes: Uint8Array): T {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (e) {
    throw new CheckpointError(path, `is not valid JSON (${(e as Error).message})`);
  }
}

/** A checkpoint read back: the model (new instance), the training state, and the optimizer, if restored. */
export interface LoadedCheckpoint {
  path: string;
  model: tf.LayersModel;
  state: TrainingState;
}

/**
 * Loads a checkpoint directory (as returned by `saveCheckpoint` / `latestCheckpoint`), verifying every file.
 * When `optimizer` is given, its slots are restored from the checkpoint (its class must match).
 */
export async function loadCheckpoint(
  path: string,
  opts: { optimizer?: OptimizerLike } = {},
): Promise<LoadedCheckpoint> {
  const manifestPath = join(path, MANIFEST);
  let manifestBytes: Uint8Array;
  try {
    manifestBytes = await Deno.readFile(manifestPath);
  } catch {
    throw new CheckpointError(manifestPath, "missing: the checkpoint is incomplete or not a checkpoint");
  }
  const manifest = parseJson<Manifest>(manifestPath, manifestBytes);
  if (manifest.format !== FORMAT || typeof manifest.files !== "object") {
    throw new CheckpointError(manifestPath, `unknown format ${JSON.stringify(manifest.format)} (expected ${FORMAT})`);
  }
  const modelJson = parseJson<tf.io.ModelJSON>(
    join(path, "model.json"),
    await readVerified(path, manifest, "model.json"),
  );
  const weights = await readVerified(path, manifest, "weights.bin");
  const state = parseJson<TrainingState & { format: string }>(
    join(path, "state.json"),
    await readVerified(path, manifest, "state.json"),
  );
  const weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights);
  const model = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: modelJson.modelTopology,
    weightSpecs,
    weightData: weights.slice().buffer,
  }));
  if (opts.optimizer) {
    try {
      await restoreOptimizer(path, manifest, opts.optimizer);
    } catch (e) {
      model.dispose(); // a damaged optimizer file: the caller gets no model to free
      throw e;
    }
  }
  const { format: _format, ...training } = state;
  return { path, model, state: training };
}

async function restoreOptimizer(dir: string, manifest: Manifest, optimizer: OptimizerLike): Promise<void> {
  const jsonPath = join(dir, "optimizer.json");
  if (!manifest.files["optimizer.json"]) {
    throw new CheckpointError(jsonPath, "missing: this checkpoint has no optimizer state");
  }
  const meta = parseJson<{ className: string; weightSpecs: tf.io.WeightsManifestEntry[] }>(
    jsonPath,
    await readVerified(dir, manifest, "optimizer.json"),
  );
  if (meta.className !== optimizer.getClassName()) {
    throw new CheckpointError(jsonPath, `holds ${meta.className} state, not ${optimizer.getClassName()}`);
  }
  const data = await readVerified(dir, manifest, "optimizer.bin");
  const named = tf.io.decodeWeights(data.slice().buffer, meta.weightSpecs);
  await optimizer.setWeights(meta.weightSpecs.map((s) => ({ name: s.name, tensor: named[s.name]! })));
  tf.dispose(Object.values(named)); // the optimizer's variables hold their own references
}
