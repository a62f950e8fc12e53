/**
 * A pickle interpreter that builds data and nothing else (protocols 0–5). Python's `pickle` imports any global a
 * file names and calls it; this one looks every global up in an allow-list instead, so a checkpoint's
 * `os.system`, `builtins.eval` or `subprocess.Popen` is refused by name before anything could happen, and the
 * allowed ones are plain TypeScript functions that build values (see `globals.ts`). Nothing is imported, evaluated
 * or executed.
 *
 * Values: None → null, bool, int → number (bigint beyond 2^53), float, str, bytes → Uint8Array, list → array,
 * tuple → frozen array, dict → Map, set/frozenset → Set. Python 2 byte strings (`STRING`, `BINSTRING`) are read
 * as text, UTF-8 or else Latin-1, as `torch.load` does with its default encoding.
 * @module
 */
import { DEFAULT_GLOBALS, type GlobalContext, refuseGlobal } from "./globals.ts";
import type { AllowedGlobal } from "./globals.ts";
import { type PickledGlobal, type PickledObject, type PickleValue, TorchCheckpointError } from "./types.ts";

export type { AllowedGlobal } from "./globals.ts";

/** Options of {@link unpickle}. */
export interface UnpickleOptions {
  /** The file being read, for error messages. */
  readonly file: string;
  /** Resolves a persistent id (`PERSID`/`BINPERSID`, how `torch.save` refers to storages); absent: refused. */
  readonly persistentLoad?: (pid: PickleValue) => PickleValue;
  /** The globals a file may name, by `module.qualname` (default: `DEFAULT_GLOBALS`). */
  readonly allow?: ReadonlyMap<string, AllowedGlobal>;
  /** Builds a tensor view of a storage, for `torch._utils._rebuild_tensor*` (absent: tensors are refused). */
  readonly rebuildTensor?: GlobalContext["rebuildTensor"];
  /** Where the pickle starts in `bytes` (default 0). */
  readonly offset?: number;
}

/** What {@link unpickleAt} returns: the value and where the pickle ended (the byte after `STOP`). */
export interface UnpickleResult {
  readonly value: PickleValue;
  readonly end: number;
}

/**
 * Reads one pickle from `bytes` and returns its value.
 * @param bytes The pickle (or a larger buffer, with `opts.offset`).
 * @param opts File name, persistent-id resolver, allow-list.
 * @throws TorchCheckpointError naming the file: a refused global, a truncated or corrupt pickle.
 */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions): PickleValue {
  return unpickleAt(bytes, opts).value;
}

/** As {@link unpickle}, also returning the offset just past the pickle (files hold several pickles in a row). */
export function unpickleAt(bytes: Uint8Array, opts: UnpickleOptions): UnpickleResult {
  return new Unpickler(bytes, opts).run();
}

// Python 2 module names as Python 3 knows them (pickle's fix_imports does the same).
const PY2_MODULES: Readonly<Record<string, string>> = { __builtin__: "builtins", copy_reg: "copyreg" };

const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

/** Mutable view of a PickledObject while BUILD may still set its state. */
type OpenObject = { -readonly [K in keyof PickledObject]: PickledObject[K] };

class Unpickler {
  private pos: number;
  private readonly stack: PickleValue[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  private readonly allow: ReadonlyMap<string, AllowedGlobal>;
  private readonly ctx: GlobalContext;
  private opStart = 0;

  constructor(private readonly b: Uint8Array, private readonly opts: UnpickleOptions) {
    this.pos = opts.offset ?? 0;
    this.allow = opts.allow ?? DEFAULT_GLOBALS;
    const file = opts.file;
    this.ctx = {
      file,
      allow: this.allow,
      rebuildTensor: opts.rebuildTensor ??
        (() => {
          throw new TorchCheckpointError(file, "corrupt: a tensor appears in a pickle that has no storages");
        }),
    };
  }

  private fail(problem: string): never {
    throw new TorchCheckpointError(this.opts.file, problem);
  }

  private corrupt(what: string): never {
    this.fail(`corrupt pickle: ${what} (opcode at byte ${this.opStart})`);
  }

  private need(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) this.corrupt(`bad length ${n}`);
    if (this.pos + n > this.b.length) {
      this.fail(
        `truncated: the pickle ends inside an opcode at byte ${this.opStart} (file has ${this.b.length} bytes)`,
      );
    }
  }

  private take(n: number): Uint8Array {
    this.need(n);
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private u8(): number {
    this.need(1);
    return this.b[this.pos++]!;
  }

  private uint(n: 2 | 4 | 8): number {
    const s = this.take(n);
    const v = new DataView(s.buffer, s.byteOffset, n);
    if (n === 2) return v.getUint16(0, true);
    if (n === 4) return v.getUint32(0, true);
    const big = v.getBigUint64(0, true);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) this.corrupt(`length ${big} is too large`);
    return Number(big);
  }

  /** A `\n`-terminated line (text opcodes of protocol 0), without the newline. */
  private line(): string {
    const end = this.b.indexOf(0x0a, this.pos);
    if (end < 0) this.fail(`truncated: the pickle ends inside a text opcode at byte ${this.opStart}`);
    const s = latin1.decode(this.b.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }

  private push(v: PickleValue): void {
    this.stack.push(v);
  }

  private pop(): PickleValue {
    if (this.stack.length <= (this.marks.at(-1) ?? 0)) this.corrupt("stack underflow");
    return this.stack.pop()!;
  }

  private top(): PickleValue {
    if (this.stack.length <= (this.marks.at(-1) ?? 0)) this.corrupt("stack underflow");
    return this.stack[this.stack.length - 1]!;
  }

  /** The items pushed since the last MARK, removing them and the mark. */
  private popMark(): PickleValue[] {
    const m = this.marks.pop();
    if (m === undefined) this.corrupt("no MARK on the stack");
    return this.stack.splice(m);
  }

  private global(module: string, name: string): PickledGlobal {
    const full = `${PY2_MODULES[module] ?? module}.${name}`;
    if (!this.allow.has(full)) refuseGlobal(this.opts.file, full);
    return Object.freeze({ kind: "global", name: full });
  }

  private allowed(v: PickleValue, action: string): [PickledGlobal, AllowedGlobal] {
    if (!isGlobal(v)) this.corrupt(`${action} on a ${describe(v)}, not a class or function`);
    return [v, this.allow.get(v.name)!];
  }

  /** REDUCE: calls an allowed function (a TypeScript builder, never Python code). */
  private call(fn: PickleValue, args: PickleValue): PickleValue {
    const [g, a] = this.allowed(fn, "call");
    if (!Array.isArray(args)) this.corrupt(`arguments of ${g.name} are not a tuple`);
    if (a.call) return a.call(args as readonly PickleValue[], this.ctx);
    if (a.instance) return this.instantiate(g, []);
    return this.fail(`refuses to call "${g.name}": it is allowed as a name only (nothing was executed)`);
  }

  /** NEWOBJ, OBJ, INST: makes a data record of an allowed class, never constructing it. */
  private instantiate(cls: PickleValue, args: readonly PickleValue[]): PickleValue {
    const [g, a] = this.allowed(cls, "instantiate");
    if (a.instance === "map") return new Map();
    if (a.instance === "object") {
      const o: OpenObject = { kind: "object", className: g.name, args: Object.freeze([...args]), state: null };
      return o;
    }
    return this.fail(`refuses to instantiate "${g.name}": it is allowed as a name only (nothing was executed)`);
  }

  /**
   * BUILD: sets a data record's state (or lets its class replace it, see `AllowedGlobal.build`); the attributes
   * of a dict subclass (a state_dict's `_metadata`) are dropped.
   */
  private build(state: PickleValue): void {
    const target = this.top();
    if (target instanceof Map) return;
    if (isObject(target)) {
      const hook = this.allow.get(target.className)?.build;
      if (!hook) {
        (target as OpenObject).state = state;
        return;
      }
      // The record was memoized before BUILD; later references must get the value that replaces it.
      const value = hook(target, state, this.ctx);
      for (const [k, v] of this.memo) if (v === target) this.memo.set(k, value);
      for (let i = 0; i < this.stack.length; i++) if (this.stack[i] === target) this.stack[i] = value;
      return;
    }
    this.corrupt(`BUILD on a ${describe(target)}`);
  }

  private setItems(items: readonly PickleValue[]): void {
    const d = this.top();
    if (!(d instanceof Map)) this.corrupt(`SETITEM on a ${describe(d)}, not a dict`);
    if (items.length % 2) this.corrupt("SETITEMS with an odd number of items");
    for (let i = 0; i < items.length; i += 2) d.set(items[i]!, items[i + 1]!);
  }

  private appendItems(items: readonly PickleValue[]): void {
    const l = this.top();
    if (!Array.isArray(l) || Object.isFrozen(l)) this.corrupt(`APPEND on a ${describe(l)}, not a list`);
    (l as PickleValue[]).push(...items);
  }

  private addItems(items: readonly PickleValue[]): void {
    const s = this.top();
    if (!(s instanceof Set)) this.corrupt(`ADDITEMS on a ${describe(s)}, not a set`);
    for (const x of items) s.add(x);
  }

  private memoGet(i: number): PickleValue {
    if (!this.memo.has(i)) this.corrupt(`memo key ${i} was never stored`);
    return this.memo.get(i)!;
  }

  private persistent(pid: PickleValue): PickleValue {
    if (!this.opts.persistentLoad) this.fail("corrupt: a persistent id appears where no storages are expected");
    return this.opts.persistentLoad(pid);
  }

  run(): UnpickleResult {
    for (;;) {
      this.opStart = this.pos;
      if (this.pos >= this.b.length) this.fail(`truncated: the pickle ends at byte ${this.pos} before its STOP`);
      const op = this.b[this.pos++]!;
      switch (op) {
        case 0x80: { // PROTO
          const v = this.u8();
          if (v > 5) this.corrupt(`pickle protocol ${v} is newer than 5`);
          break;
        }
        case 0x95: // FRAME: a length prefix only; frames are read inline.
          this.uint(8);
          break;
        case 0x2e: { // STOP
          const value = this.pop();
          if (this.stack.length || this.marks.length) this.corrupt("items left on the stack at STOP");
          return { value, end: this.pos };
        }
        case 0x28: // MARK
          this.marks.push(this.stack.length);
          break;
        case 0x30: // POP
          if (this.stack.length === (this.marks.at(-1) ?? -1)) this.popMark();
          else this.pop();
          break;
        case 0x31: // POP_MARK
          this.popMark();
          break;
        case 0x32: // DUP
          this.push(this.top());
          break;
        case 0x4e: // NONE
          this.push(null);
          break;
        case 0x88: // NEWTRUE
          this.push(true);
          break;
        case 0x89: // NEWFALSE
          this.push(false);
          break;
        case 0x4b: // BININT1
          this.push(this.u8());
          break;
        case 0x4d: // BININT2
          this.push(this.uint(2));
          break;
        case 0x4a: { // BININT
          const s = this.take(4);
          this.push(new DataView(s.buffer, s.byteOffset, 4).getInt32(0, true));
          break;
        }
        case 0x8a: // LONG1
          this.push(littleEndianInt(this.take(this.u8())));
          break;
        case 0x8b: { // LONG4
          const s = this.take(4);
          const n = new DataView(s.buffer, s.byteOffset, 4).getInt32(0, true);
          if (n < 0) this.corrupt("negative LONG4 length");
          this.push(littleEndianInt(this.take(n)));
          break;
        }
        case 0x49: // INT (text); "01"/"00" are protocol 0's True/False
          this.push(this.textInt(this.line()));
          break;
        case 0x4c: // LONG (text, with a trailing L)
          this.push(this.textInt(this.line().replace(/L$/, ""), true));
          break;
        case 0x47: { // BINFLOAT, big-endian
          const s = this.take(8);
          this.push(new DataView(s.buffer, s.byteOffset, 8).getFloat64(0, false));
          break;
        }
        case 0x46: { // FLOAT (text)
          const t = this.line().trim();
          const v = Number(t === "inf" ? "Infinity" : t === "-inf" ? "-Infinity" : t);
          if (Number.isNaN(v) && t.toLowerCase() !== "nan") this.corrupt(`bad FLOAT "${t}"`);
          this.push(v);
          break;
        }
        case 0x58: // BINUNICODE
          this.push(this.text(this.take(this.uint(4))));
          break;
        case 0x8c: // SHORT_BINUNICODE
          this.push(this.text(this.take(this.u8())));
          break;
        case 0x8d: // BINUNICODE8
          this.push(this.text(this.take(this.uint(8))));
          break;
        case 0x56: // UNICODE (text, raw-unicode-escape)
          this.push(rawUnicodeUnescape(this.line()));
          break;
        case 0x55: // SHORT_BINSTRING (Python 2 str)
          this.push(py2String(this.take(this.u8())));
          break;
        case 0x54: { // BINSTRING
          const s = this.take(4);
          const n = new DataView(s.buffer, s.byteOffset, 4).getInt32(0, true);
          if (n < 0) this.corrupt("negative BINSTRING length");
          this.push(py2String(this.take(n)));
          break;
        }
        case 0x53: // STRING (text, a quoted Python 2 repr)
          this.push(this.quoted(this.line()));
          break;
        case 0x43: // SHORT_BINBYTES
          this.push(this.take(this.u8()).slice());
          break;
        case 0x42: // BINBYTES
          this.push(this.take(this.uint(4)).slice());
          break;
        case 0x8e: // BINBYTES8
        case 0x96: // BYTEARRAY8
          this.push(this.take(this.uint(8)).slice());
          break;
        case 0x97: // NEXT_BUFFER
        case 0x98: // READONLY_BUFFER
          this.fail("unsupported pickle: out-of-band buffers (protocol 5) cannot come from a file");
          break;
        case 0x7d: // EMPTY_DICT
          this.push(new Map());
          break;
        case 0x5d: // EMPTY_LIST
          this.push([]);
          break;
        case 0x29: // EMPTY_TUPLE
          this.push(Object.freeze([]));
          break;
        case 0x8f: // EMPTY_SET
          this.push(new Set());
          break;
        case 0x64: { // DICT
          const items = this.popMark();
          this.push(new Map());
          this.setItems(items);
          break;
        }
        case 0x6c: // LIST
          this.push(this.popMark());
          break;
        case 0x74: // TUPLE
          this.push(Object.freeze(this.popMark()));
          break;
        case 0x85: // TUPLE1
          this.push(Object.freeze([this.pop()]));
          break;
        case 0x86: { // TUPLE2
          const b = this.pop();
          this.push(Object.freeze([this.pop(), b]));
          break;
        }
        case 0x87: { // TUPLE3
          const c = this.pop();
          const b = this.pop();
          this.push(Object.freeze([this.pop(), b, c]));
          break;
        }
        case 0x91: // FROZENSET
          this.push(new Set(this.popMark()));
          break;
        case 0x61: // APPEND
          this.appendItems([this.pop()]);
          break;
        case 0x65: // APPENDS
          this.appendItems(this.popMark());
          break;
        case 0x73: { // SETITEM
          const v = this.pop();
          const k = this.pop();
          this.setItems([k, v]);
          break;
        }
        case 0x75: // SETITEMS
          this.setItems(this.popMark());
          break;
        case 0x90: // ADDITEMS
          this.addItems(this.popMark());
          break;
        case 0x70: // PUT (text)
          this.memo.set(this.textIndex(this.line()), this.top());
          break;
        case 0x71: // BINPUT
          this.memo.set(this.u8(), this.top());
          break;
        case 0x72: // LONG_BINPUT
          this.memo.set(this.uint(4), this.top());
          break;
        case 0x94: // MEMOIZE
          this.memo.set(this.memo.size, this.top());
          break;
        case 0x67: // GET (text)
          this.push(this.memoGet(this.textIndex(this.line())));
          break;
        case 0x68: // BINGET
          this.push(this.memoGet(this.u8()));
          break;
        case 0x6a: // LONG_BINGET
          this.push(this.memoGet(this.uint(4)));
          break;
        case 0x63: { // GLOBAL
          const module = this.line();
          this.push(this.global(module, this.line()));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== "string" || typeof name !== "string") this.corrupt("STACK_GLOBAL needs two strings");
          this.push(this.global(module, name));
          break;
        }
        case 0x52: { // REDUCE
          const args = this.pop();
          this.push(this.call(this.pop(), args));
          break;
        }
        case 0x81: { // NEWOBJ
          const args = this.pop();
          const cls = this.pop();
          if (!Array.isArray(args)) this.corrupt("NEWOBJ arguments are not a tuple");
          this.push(this.instantiate(cls, args as readonly PickleValue[]));
          break;
        }
        case 0x92: { // NEWOBJ_EX (keyword arguments are not kept)
          this.pop();
          const args = this.pop();
          const cls = this.pop();
          if (!Array.isArray(args)) this.corrupt("NEWOBJ_EX arguments are not a tuple");
          this.push(this.instantiate(cls, args as readonly PickleValue[]));
          break;
        }
        case 0x69: { // INST
          const module = this.line();
          const cls = this.global(module, this.line());
          this.push(this.instantiate(cls, this.popMark()));
          break;
        }
        case 0x6f: { // OBJ
          const [cls, ...args] = this.popMark();
          if (cls === undefined) this.corrupt("OBJ without a class");
          this.push(this.instantiate(cls, args));
          break;
        }
        case 0x62: // BUILD
          this.build(this.pop());
          break;
        case 0x51: // BINPERSID
          this.push(this.persistent(this.pop()));
          break;
        case 0x50: // PERSID (text)
          this.push(this.persistent(this.line()));
          break;
        case 0x82: // EXT1
        case 0x83: // EXT2
        case 0x84: // EXT4
          this.fail("refuses global from the copyreg extension registry (EXT opcodes); nothing was executed");
          break;
        default:
          this.corrupt(`unknown opcode 0x${op.toString(16).padStart(2, "0")}`);
      }
    }
  }

  private text(raw: Uint8Array): string {
    try {
      return utf8.decode(raw);
    } catch {
      return this.corrupt("a string is not valid UTF-8");
    }
  }

  private textInt(s: string, long = false): number | bigint | boolean {
    const t = s.trim();
    if (!long && t === "01") return true;
    if (!long && t === "00") return false;
    if (!/^[+-]?\d+$/.test(t)) this.corrupt(`bad integer "${t}"`);
    return normalizeInt(BigInt(t));
  }

  private textIndex(s: string): number {
    const t = s.trim();
    if (!/^\d+$/.test(t)) this.corrupt(`bad memo key "${t}"`);
    return Number(t);
  }

  private quoted(s: string): string {
    const t = s.trim();
    const q = t[0];
    if (t.length < 2 || (q !== "'" && q !== '"') || t.at(-1) !== q) this.corrupt("STRING is not quoted");
    return pythonUnescape(t.slice(1, -1));
  }
}

function isGlobal(v: PickleValue): v is PickledGlobal {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "global" && !Array.isArray(v) &&
    !(v instanceof Map);
}

function isObject(v: PickleValue): v is PickledObject {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "object" && !Array.isArray(v) &&
    !(v instanceof Map);
}

/** A short description of a value's type, for messages. */
export function describe(v: PickleValue): string {
  if (v === null) return "None";
  if (Array.isArray(v)) return Object.isFrozen(v) ? "tuple" : "list";
  if (v instanceof Map) return "dict";
  if (v instanceof Set) return "set";
  if (v instanceof Uint8Array) return "bytes";
  if (typeof v === "object") {
    const o = v as { kind: string; name?: string; className?: string };
    return o.kind === "global" ? `global ${o.name}` : o.kind === "object" ? `${o.className} object` : o.kind;
  }
  return typeof v;
}

/** An int as a number when exactly representable, else a bigint. */
function normalizeInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** LONG1/LONG4 payload: little-endian two's complement. */
function littleEndianInt(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  // Via hex text: shifting a growing bigint byte by byte is quadratic in a (hostile) long LONG4.
  let hex = "";
  for (let i = bytes.length - 1; i >= 0; i--) hex += bytes[i]!.toString(16).padStart(2, "0");
  let v = BigInt(`0x${hex}`);
  if (bytes[bytes.length - 1]! & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return normalizeInt(v);
}

function py2String(raw: Uint8Array): string {
  try {
    return utf8.decode(raw);
  } catch {
    return latin1.decode(raw);
  }
}

/** Python 2 string-literal escapes (`\n`, `\xHH`, octal, quotes) as protocol 0's STRING writes them. */
function pythonUnescape(s: string): string {
  const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"', a: "\x07" };
  Object.assign(simple, { b: "\b", f: "\f", v: "\v", "\n": "" });
  const bytes = s.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/gs, (_m, e: string) => {
    if (e[0] === "x") return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    return simple[e] ?? `\\${e}`;
  });
  return py2String(Uint8Array.from(bytes, (c) => c.charCodeAt(0) & 0xff));
}

/** raw-unicode-escape: Latin-1 text with `\uXXXX` and `\UXXXXXXXX` escapes (protocol 0's UNICODE). */
function rawUnicodeUnescape(s: string): string {
  return s.replace(
    /\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g,
    (_m, u?: string, U?: string) => String.fromCodePoint(parseInt((u ?? U)!, 16)),
  );
}
