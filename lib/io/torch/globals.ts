/**
 * The globals a checkpoint may name, and what the unpickler makes of each. Python's pickle would import and call
 * them; here each is a small TypeScript builder of data, a class whose instances are kept as data records
 * (`PickledObject`, never constructed), or a name the file may mention but never call (storage types, dtypes).
 * Every other global is refused by name.
 *
 * Why each is here:
 * - `torch._utils._rebuild_tensor_v2`, `_rebuild_tensor`: how `torch.save` writes every tensor.
 * - `torch._utils._rebuild_parameter`, `_rebuild_parameter_with_state`, `torch.nn.parameter.Parameter`: an
 *   `nn.Parameter` (saved modules, optimizer state) — read as its tensor.
 * - `torch.*Storage`, `torch.cuda.*Storage`, `torch.UntypedStorage`, `torch.storage.UntypedStorage`, `torch.<dtype>`:
 *   named in storages' persistent ids (the CUDA ones by legacy files saved on a GPU).
 * - `collections.OrderedDict`: every `state_dict`. `collections.Counter`: `MultiStepLR.milestones` in saved
 *   scheduler states. `collections.defaultdict`: optimizer and metric state (read as a Map, factory dropped).
 * - `builtins.set`/`frozenset`: sets below protocol 4. `_codecs.encode`, `builtins.bytearray`: bytes below
 *   protocol 3. `copyreg._reconstructor` with `builtins.object`: data objects in protocols 0–1.
 *   `builtins.dict`/`list`/`int`/`float`: names only (a defaultdict's factory).
 * - `argparse.Namespace`: the training options many repositories save as `args` (a data record). Options also
 *   hold `torch.device` (read as `"cuda:0"`), `torch.Size` (a tuple) and `pathlib` paths (text).
 * - `pytorch_lightning.utilities.parsing.AttributeDict`, `lightning_fabric.utilities.data.AttributeDict`,
 *   `lightning.fabric.utilities.data.AttributeDict`: Lightning's `hyper_parameters`, a dict subclass read as a
 *   plain Map (its class name is not kept).
 * - `pytorch_lightning.callbacks.{model_checkpoint.ModelCheckpoint, early_stopping.EarlyStopping}`: Lightning
 *   1.x keys its `callbacks` state by these classes; read as names.
 * - `numpy.dtype`, `numpy.ndarray`, `numpy.core.multiarray.{scalar,_reconstruct}` (and NumPy 2's `numpy._core`):
 *   metrics and small arrays saved with the weights (ELOC's files keep `best_prec1`, a `numpy.float64`); scalars
 *   read as numbers, numeric arrays as tensors (`numpy.ts`).
 * @module
 */
import { NUMPY_GLOBALS } from "./numpy.ts";
import {
  isTorchTensor,
  type PickledGlobal,
  type PickledObject,
  type PickleValue,
  TorchCheckpointError,
  type TorchDType,
  type TorchTensor,
} from "./types.ts";

/** What the unpickler's builders may use besides their arguments. */
export interface GlobalContext {
  /** The file being read, for messages. */
  readonly file: string;
  /** The allow-list in force (for `copyreg._reconstructor`, which instantiates the class it is given). */
  readonly allow: ReadonlyMap<string, AllowedGlobal>;
  /** A tensor of `size`/`stride` at `offset` elements into `storage` (a storage from a persistent id). */
  readonly rebuildTensor: (
    storage: PickleValue,
    offset: number,
    size: readonly number[],
    stride: readonly number[],
  ) => TorchTensor;
}

/** One allowed global: what REDUCE does with it, what NEWOBJ/OBJ/INST make of it; neither → a name only. */
export interface AllowedGlobal {
  /** REDUCE: builds a value from the arguments (absent: calling it is refused). */
  readonly call?: (args: readonly PickleValue[], ctx: GlobalContext) => PickleValue;
  /** NEWOBJ/OBJ/INST: a data record (`object`) or, for dict subclasses, a Map (absent: refused). */
  readonly instance?: "object" | "map";
  /**
   * BUILD on a record of this class: the value that replaces the record (e.g. a NumPy array's state → a tensor).
   * Absent: the state is stored in the record.
   */
  readonly build?: (record: PickledObject, state: PickleValue, ctx: GlobalContext) => PickleValue;
}

/** Throws the refusal of a global that is not allowed. */
export function refuseGlobal(file: string, name: string): never {
  // A module class means `torch.save(model)`: the pickle needs the authors' code; its weights do not.
  const hint = name.startsWith("torch.nn.modules.") || name.startsWith("__main__.")
    ? "; the file seems to pickle a whole model object: load it in Python and save model.state_dict() instead"
    : "";
  throw new TorchCheckpointError(
    file,
    `refuses global "${name}": a checkpoint may only hold data, tensors and the reader's allow-list of globals ` +
      `(nothing from the file was executed)${hint}`,
  );
}

/** The element type of each storage class a persistent id may name. */
export const STORAGE_DTYPES: ReadonlyMap<string, TorchDType> = new Map(
  ([
    ["Float", "float32"],
    ["Half", "float16"],
    ["Double", "float64"],
    ["Long", "int64"],
    ["Int", "int32"],
    ["Short", "int16"],
    ["Char", "int8"],
    ["Byte", "uint8"],
    ["Bool", "bool"],
  ] as const).flatMap(([k, d]) => [[`torch.${k}Storage`, d], [`torch.cuda.${k}Storage`, d]] as const),
);

/** `torch.<dtype>` globals and the element type each names. */
export const DTYPE_GLOBALS: ReadonlyMap<string, TorchDType> = new Map([
  ["torch.float32", "float32"],
  ["torch.float", "float32"],
  ["torch.float16", "float16"],
  ["torch.half", "float16"],
  ["torch.float64", "float64"],
  ["torch.double", "float64"],
  ["torch.int64", "int64"],
  ["torch.long", "int64"],
  ["torch.int32", "int32"],
  ["torch.int", "int32"],
  ["torch.int16", "int16"],
  ["torch.short", "int16"],
  ["torch.int8", "int8"],
  ["torch.uint8", "uint8"],
  ["torch.bool", "bool"],
]);

const bad = (ctx: GlobalContext, fn: string, why: string): never => {
  throw new TorchCheckpointError(ctx.file, `corrupt: bad arguments to ${fn} (${why})`);
};

function intList(v: PickleValue | undefined, ctx: GlobalContext, fn: string, what: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => Number.isSafeInteger(x))) bad(ctx, fn, `${what} is not a tuple of ints`);
  return v as number[];
}

function int(v: PickleValue | undefined, ctx: GlobalContext, fn: string, what: string): number {
  if (!Number.isSafeInteger(v)) bad(ctx, fn, `${what} is not an int`);
  return v as number;
}

/** `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`. */
function rebuildTensor(fn: string): AllowedGlobal {
  return {
    call: (args, ctx) => {
      if (args.length < 4) bad(ctx, fn, `${args.length} arguments`);
      const size = intList(args[2], ctx, fn, "size");
      const stride = intList(args[3], ctx, fn, "stride");
      if (size.length !== stride.length) bad(ctx, fn, "size and stride differ in length");
      return ctx.rebuildTensor(args[0]!, int(args[1], ctx, fn, "storage_offset"), size, stride);
    },
  };
}

/** A Parameter is read as its tensor (`requires_grad`, hooks and state are training-time details). */
const parameter = (fn: string): AllowedGlobal => ({
  call: (args, ctx) => isTorchTensor(args[0]) ? args[0] : bad(ctx, fn, "the data is not a tensor"),
});

/** A dict built from REDUCE's optional argument: a dict, or a list of key/value pairs. */
function mapFrom(fn: string): AllowedGlobal {
  return {
    instance: "map",
    call: (args, ctx) => {
      const src = args.find((a) => a instanceof Map || Array.isArray(a));
      if (src instanceof Map) return new Map(src);
      const m = new Map<PickleValue, PickleValue>();
      for (const pair of (src ?? []) as readonly PickleValue[]) {
        if (!Array.isArray(pair) || pair.length !== 2) bad(ctx, fn, "items are not key/value pairs");
        m.set((pair as PickleValue[])[0]!, (pair as PickleValue[])[1]!);
      }
      return m;
    },
  };
}

const setFrom = (fn: string): AllowedGlobal => ({
  call: (args, ctx) => {
    const src = args[0] ?? [];
    if (!Array.isArray(src) && !(src instanceof Set)) bad(ctx, fn, "not built from a list");
    return new Set(src as Iterable<PickleValue>);
  },
});

/** Protocol 2 writes bytes as `_codecs.encode(latin1_text, "latin1")` and bytearrays likewise. */
const latin1Bytes = (fn: string): AllowedGlobal => ({
  call: (args, ctx) => {
    const [text, encoding] = args;
    if (text instanceof Uint8Array) return text.slice();
    if (text === undefined) return new Uint8Array();
    const enc = typeof encoding === "string" ? encoding.toLowerCase().replace("_", "-") : "latin-1";
    if (typeof text !== "string" || !["latin1", "latin-1", "iso-8859-1"].includes(enc)) {
      bad(ctx, fn, "only Latin-1 text is read as bytes");
    }
    return Uint8Array.from(text as string, (c) => c.charCodeAt(0) & 0xff);
  },
});

/** `copyreg._reconstructor(cls, object, None)`: protocols 0–1's way to pickle a plain object. */
const reconstructor: AllowedGlobal = {
  call: (args, ctx) => {
    const [cls, base] = args as PickleValue[];
    const name = (cls as PickledGlobal | null)?.kind === "global" ? (cls as PickledGlobal).name : "";
    const entry = ctx.allow.get(name);
    if (!entry?.instance || (base as PickledGlobal | null)?.name !== "builtins.object") {
      return bad(ctx, "copyreg._reconstructor", `${name || "a non-class"} is not an allowed data class`);
    }
    if (entry.instance === "map") return new Map();
    return { kind: "object", className: name, args: Object.freeze([]), state: null };
  },
};

/** `torch.device("cuda", 0)` → `"cuda:0"` (options often record the device). */
const device: AllowedGlobal = {
  call: (args, ctx) =>
    args.every((a) => typeof a === "string" || Number.isSafeInteger(a)) && args.length > 0
      ? args.join(":")
      : bad(ctx, "torch.device", "not a device name"),
};

/** `torch.Size([..])` → a tuple of ints. */
const torchSize: AllowedGlobal = {
  call: (args, ctx) => Object.freeze([...intList(args[0] ?? [], ctx, "torch.Size", "size")]),
};

/** `pathlib.PosixPath("runs", "x")` → `"runs/x"` (options often record paths). */
const path = (fn: string, sep: string): AllowedGlobal => ({
  call: (args, ctx) =>
    args.every((a) => typeof a === "string")
      ? args.join(sep).replaceAll(sep + sep, sep) // a root part ("/") already ends in the separator
      : bad(ctx, fn, "not text"),
});

const nameOnly: AllowedGlobal = {};

/** Every global a checkpoint may name by default (see the module doc for why each is here). */
export const DEFAULT_GLOBALS: ReadonlyMap<string, AllowedGlobal> = new Map<string, AllowedGlobal>([
  ["torch._utils._rebuild_tensor_v2", rebuildTensor("torch._utils._rebuild_tensor_v2")],
  ["torch._utils._rebuild_tensor", rebuildTensor("torch._utils._rebuild_tensor")],
  ["torch._utils._rebuild_parameter", parameter("torch._utils._rebuild_parameter")],
  ["torch._utils._rebuild_parameter_with_state", parameter("torch._utils._rebuild_parameter_with_state")],
  ["torch.nn.parameter.Parameter", parameter("torch.nn.parameter.Parameter")],
  ...[...STORAGE_DTYPES.keys(), ...DTYPE_GLOBALS.keys()].map((k) => [k, nameOnly] as const),
  ["torch.UntypedStorage", nameOnly],
  ["torch.storage.UntypedStorage", nameOnly],
  ["collections.OrderedDict", mapFrom("collections.OrderedDict")],
  ["collections.Counter", mapFrom("collections.Counter")],
  ["collections.defaultdict", mapFrom("collections.defaultdict")],
  ["builtins.set", setFrom("builtins.set")],
  ["builtins.frozenset", setFrom("builtins.frozenset")],
  ["builtins.bytearray", latin1Bytes("builtins.bytearray")],
  ["_codecs.encode", latin1Bytes("_codecs.encode")],
  ["copyreg._reconstructor", reconstructor],
  ["builtins.object", nameOnly],
  ["builtins.dict", nameOnly],
  ["builtins.list", nameOnly],
  ["builtins.int", nameOnly],
  ["builtins.float", nameOnly],
  ["torch.device", device],
  ["torch.Size", torchSize],
  ["pathlib.PosixPath", path("pathlib.PosixPath", "/")],
  ["pathlib.Path", path("pathlib.Path", "/")],
  ["pathlib.WindowsPath", path("pathlib.WindowsPath", "\\")],
  ["argparse.Namespace", { instance: "object" }],
  ["pytorch_lightning.utilities.parsing.AttributeDict", { instance: "map" }],
  ["lightning_fabric.utilities.data.AttributeDict", { instance: "map" }],
  ["lightning.fabric.utilities.data.AttributeDict", { instance: "map" }],
  ["pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint", nameOnly],
  ["pytorch_lightning.callbacks.early_stopping.EarlyStopping", nameOnly],
  ...NUMPY_GLOBALS,
]);
