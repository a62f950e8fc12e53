/**
 * Copies a PyTorch `state_dict` (read by `lib/io/torch`) into TF.js models, by name.
 *
 * A {@link StateDictMap} lists the authors' module names in the order TF.js creates the matching layers (the
 * same order PyTorch registers the modules in the reference networks, which tests/backbones pins). Each module
 * names its kind, and the kind fixes the parameter names and the layout change:
 *
 * | kind | PyTorch parameters | TF.js weights |
 * |---|---|---|
 * | `conv` | `weight` [O, I, kh, kw], `bias`? | kernel [kh, kw, I, O], bias |
 * | `convTranspose` | `weight` [I, O, kh, kw], `bias`? | kernel [kh, kw, O, I], bias |
 * | `bn` | `weight`, `bias` (affine only), `running_mean`, `running_var` | γ, β, moving mean, moving variance |
 * | `dense` | `weight` [out, in], `bias`? | kernel [in, out], bias |
 *
 * A `dense` module after a flatten of a C×H×W map carries `flattenChw`: PyTorch flattens in (C, H, W) order,
 * TF.js in (H, W, C), so the kernel's input index is permuted; a `dense` module whose outputs are reshaped into a
 * map carries `unflattenChw`, and its output index (kernel and bias) is permuted the same way.
 * `num_batches_tracked` is always ignored.
 * Missing and unexpected keys are reported together, by name, before any weight is set; a shape mismatch names
 * the key and both shapes.
 * @module
 */
import { tf } from "../tf.ts";
import { isTorchTensor, type PickleValue, TorchCheckpointError, type TorchTensor } from "../io/torch/types.ts";

/** The layer kinds a state dict maps onto. */
export type ModuleKind = "conv" | "convTranspose" | "bn" | "dense";

/** One PyTorch module of the authors' network and the TF.js layer kind it becomes. */
export interface ModuleSpec {
  /** The module's name in the authors' `state_dict` after prefix stripping, e.g. `"layer1.0.conv1"`. */
  readonly name: string;
  readonly kind: ModuleKind;
  /** For a `dense` module that follows a flatten: the PyTorch map shape (C, H, W) it flattens. */
  readonly flattenChw?: readonly [number, number, number];
  /**
   * For a `dense` module whose outputs are reshaped into a map (PyTorch `view(-1, C, H, W)`, TF.js a reshape to
   * [H, W, C]): the shape (C, H, W). The kernel's output index and the bias are permuted from (C, H, W) order.
   */
  readonly unflattenChw?: readonly [number, number, number];
}

/** How one released network's `state_dict` maps onto TF.js models. */
export interface StateDictMap {
  /** What the map is for, for messages, e.g. `"CIDER ResNet-18 (CIFAR-10)"`. */
  readonly label: string;
  /** The modules, in the order of the TF.js layers with weights (creation order, over all target models). */
  readonly modules: readonly ModuleSpec[];
  /**
   * Prefixes removed from every key that has them, in this order (e.g. `["module.", "encoder."]`):
   * DataParallel's `module.` and wrapper attributes.
   */
  readonly stripPrefixes?: readonly string[];
  /** Keys (after stripping) that are in the file but not used, e.g. a projection head the evaluation skips. */
  readonly ignore?: (key: string) => boolean;
}

const dims = (shape: readonly number[]) => `[${shape.join(", ")}]`;

/** Strips the map's prefixes from a key (each at most once, in order). */
export function stripKey(key: string, prefixes: readonly string[] = []): string {
  let k = key;
  for (const p of prefixes) if (k.startsWith(p)) k = k.slice(p.length);
  return k;
}

/**
 * The tensors of a state dict by key. Accepts the dict itself or a checkpoint dict that holds it under
 * `state_dict` (CIDER, PyTorch Lightning), `model_state_dict`, `model`, `net` or `state`.
 *
 * @param root The value read from the file.
 * @param file The file, for the error message.
 * @throws TorchCheckpointError when no dict of tensors is found.
 */
export function findStateDict(root: PickleValue, file: string): Map<string, TorchTensor> {
  const isTensorDict = (v: PickleValue): v is Map<PickleValue, PickleValue> =>
    v instanceof Map && v.size > 0 && [...v].every(([k, t]) => typeof k === "string" && isTorchTensor(t));
  if (isTensorDict(root)) return root as Map<string, TorchTensor>;
  if (root instanceof Map) {
    for (const key of ["state_dict", "model_state_dict", "model", "net", "state"]) {
      const v = root.get(key);
      if (v !== undefined && isTensorDict(v)) return v as Map<string, TorchTensor>;
    }
    const keys = [...root.keys()].map(String).slice(0, 12).join(", ");
    throw new TorchCheckpointError(file, `no state_dict found: the file holds a dict with keys ${keys}`);
  }
  throw new TorchCheckpointError(file, "no state_dict found: the file does not hold a dict");
}

function paramNames(spec: ModuleSpec, layer: tf.layers.Layer): string[] {
  const n = layer.weights.length;
  switch (spec.kind) {
    case "conv":
    case "convTranspose":
    case "dense":
      return n === 2 ? ["weight", "bias"] : ["weight"];
    case "bn":
      return n === 4 ? ["weight", "bias", "running_mean", "running_var"] : ["running_mean", "running_var"];
  }
}

/** Copies `data` (contiguous in `shape`) into a new array with the axes in `perm` order. */
export function permuteAxes(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1]! * shape[i + 1]!;
  const strideOfOut = perm.map((p) => inStrides[p]!);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src += index[d]! * strideOfOut[d]!;
    out[o] = data[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d]! < outShape[d]!) break;
      index[d] = 0;
    }
  }
  return out;
}

function asFloat32(t: TorchTensor, key: string, file: string): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  if (t.data instanceof Float64Array) return Float32Array.from(t.data);
  throw new TorchCheckpointError(file, `${key} is ${t.dtype}, expected a floating-point tensor`);
}

/** The TF.js value of one parameter and its shape, in TF.js layout. */
function toTfLayout(
  spec: ModuleSpec,
  param: string,
  t: TorchTensor,
  key: string,
  file: string,
): { data: Float32Array; shape: number[] } {
  const v = asFloat32(t, key, file);
  if (param === "bias" && spec.kind === "dense" && spec.unflattenChw) {
    const [c, h, w] = spec.unflattenChw;
    if (t.shape.length !== 1 || t.shape[0] !== c * h * w) {
      throw new TorchCheckpointError(file, `${key} has shape ${dims(t.shape)}, expected [${c * h * w}] = C·H·W`);
    }
    return { data: permuteAxes(v, [c, h, w], [1, 2, 0]), shape: [...t.shape] };
  }
  if (param !== "weight" || spec.kind === "bn") return { data: v, shape: [...t.shape] };
  if (spec.kind === "conv" || spec.kind === "convTranspose") {
    if (t.shape.length !== 4) throw new TorchCheckpointError(file, `${key} has shape ${dims(t.shape)}, expected 4-D`);
    const [o, i, kh, kw] = t.shape as [number, number, number, number];
    return { data: permuteAxes(v, t.shape, [2, 3, 1, 0]), shape: [kh, kw, i, o] };
  }
  if (t.shape.length !== 2) throw new TorchCheckpointError(file, `${key} has shape ${dims(t.shape)}, expected 2-D`);
  const [out, inp] = t.shape as [number, number];
  let rows = v;
  if (spec.unflattenChw) {
    const [c, h, w] = spec.unflattenChw;
    if (c * h * w !== out) {
      throw new TorchCheckpointError(file, `${key} has ${out} outputs, expected C·H·W = ${c}·${h}·${w} = ${c * h * w}`);
    }
    // The output rows in (H, W, C) order, each row (the module's inputs) unchanged.
    rows = permuteAxes(v, [c, h, w, inp], [1, 2, 0, 3]);
  }
  if (spec.flattenChw) {
    const [c, h, w] = spec.flattenChw;
    if (c * h * w !== inp) {
      throw new TorchCheckpointError(file, `${key} has ${inp} inputs, expected C·H·W = ${c}·${h}·${w} = ${c * h * w}`);
    }
    const hwc = permuteAxes(rows, [out, c, h, w], [0, 2, 3, 1]);
    return { data: permuteAxes(hwc, [out, inp], [1, 0]), shape: [inp, out] };
  }
  return { data: permuteAxes(rows, [out, inp], [1, 0]), shape: [inp, out] };
}

/** The TF.js layers with weights of the models, in creation order (the order a {@link StateDictMap} lists). */
export function weightedLayers(models: readonly tf.LayersModel[]): tf.layers.Layer[] {
  return models.flatMap((m) => m.layers.filter((l) => l.weights.length > 0).sort((a, b) => a.id - b.id));
}

/**
 * Sets the weights of `models` from an authors' state dict through `map`.
 *
 * @param models The TF.js models, in the order the map's modules list them.
 * @param stateDict Tensors by key, as {@link findStateDict} returns them.
 * @param map The paper's name map.
 * @param file The checkpoint file, for messages.
 * @returns The keys that were ignored (by the map or as `num_batches_tracked`).
 * @throws TorchCheckpointError listing missing and unexpected keys, or naming a key whose shape differs.
 */
export function loadStateDict(
  models: readonly tf.LayersModel[],
  stateDict: ReadonlyMap<string, TorchTensor>,
  map: StateDictMap,
  file: string,
): string[] {
  const layers = weightedLayers(models);
  if (layers.length !== map.modules.length) {
    throw new Error(
      `${map.label}: the name map lists ${map.modules.length} modules but the TF.js models have ${layers.length} ` +
        "layers with weights (a bug in the map, not in the file)",
    );
  }
  const byKey = new Map<string, TorchTensor>();
  const ignored: string[] = [];
  for (const [rawKey, t] of stateDict) {
    const key = stripKey(rawKey, map.stripPrefixes);
    if (key.endsWith("num_batches_tracked") || map.ignore?.(key)) ignored.push(rawKey);
    else byKey.set(key, t);
  }
  const expected = map.modules.flatMap((spec, i) => paramNames(spec, layers[i]!).map((p) => `${spec.name}.${p}`));
  const missing = expected.filter((k) => !byKey.has(k));
  const expectedSet = new Set(expected);
  const unexpected = [...byKey.keys()].filter((k) => !expectedSet.has(k));
  if (missing.length > 0 || unexpected.length > 0) {
    const list = (keys: string[]) =>
      keys.length === 0 ? "none" : keys.slice(0, 20).join(", ") + (keys.length > 20 ? `, … (${keys.length})` : "");
    throw new TorchCheckpointError(
      file,
      `does not fit ${map.label}: missing keys: ${list(missing)}; unexpected keys: ${list(unexpected)}`,
    );
  }
  map.modules.forEach((spec, i) => {
    const layer = layers[i]!;
    const values = paramNames(spec, layer).map((param, j) => {
      const key = `${spec.name}.${param}`;
      const t = byKey.get(key)!;
      const { data, shape } = toTfLayout(spec, param, t, key, file);
      const want = layer.weights[j]!.shape as number[];
      if (dims(shape) !== dims(want)) {
        throw new TorchCheckpointError(
          file,
          `${key} has shape ${dims(t.shape)} (${dims(shape)} in TF.js layout); ${map.label} expects ${dims(want)} ` +
            `(layer ${layer.name})`,
        );
      }
      return tf.tensor(data, want);
    });
    layer.setWeights(values);
    tf.dispose(values);
  });
  return ignored;
}
