import assert from "node:assert/strict";
import {
  type AllowedGlobal,
  DEFAULT_GLOBALS,
  type PickleValue,
  TorchCheckpointError,
  unpickle,
} from "@lib/io/torch/mod.ts";
import { halfToFloat } from "@lib/io/torch/tensor.ts";

/** Pickle bytes from a mix of strings (Latin-1 opcodes and text) and byte values. */
function p(...parts: (string | number[])[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((x) => typeof x === "string" ? [...x].map((c) => c.charCodeAt(0)) : x));
}

const load = (bytes: Uint8Array, allow?: ReadonlyMap<string, AllowedGlobal>) =>
  unpickle(bytes, { file: "t.pkl", allow });

function assertRefused(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => load(bytes), (e: unknown) => e instanceof TorchCheckpointError && pattern.test(e.message));
}

Deno.test("unpickle() builds numbers: BININT*, LONG1 (two's complement), BINFLOAT (big-endian), text INT/LONG/FLOAT", () => {
  assert.equal(load(p([0x80, 2], "J", [0xfe, 0xff, 0xff, 0xff], ".")), -2);
  assert.equal(load(p([0x80, 2], "M", [0x34, 0x12], ".")), 0x1234);
  assert.equal(load(p([0x80, 2, 0x8a, 2, 0x00, 0x80], ".")), -32768);
  assert.equal(load(p([0x80, 2, 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1], ".")), 2n ** 64n);
  assert.equal(load(p([0x80, 2, 0x8a, 0], ".")), 0);
  assert.equal(load(p([0x80, 2], "G", [0x3f, 0xf8, 0, 0, 0, 0, 0, 0], ".")), 1.5);
  assert.equal(load(p("I-17\n.")), -17);
  assert.equal(load(p("I01\n.")), true);
  assert.equal(load(p("L123456789012345678901L\n.")), 123456789012345678901n);
  assert.equal(load(p("F-0.25\n.")), -0.25);
});

Deno.test("unpickle() builds containers and shares memoized values (PUT/GET, MEMOIZE)", () => {
  // [x, x] where x = {"a": (1,)} stored once in the memo.
  const v = load(p([0x80, 4], "](", "}", [0x94], [0x8c, 1], "a", "K", [1, 0x85], "s", "h", [0], "e."));
  assert.ok(Array.isArray(v));
  assert.equal(v[0], v[1], "the same object, not a copy");
  assert.deepEqual(v[0], new Map([["a", [1]]]));
  assert.deepEqual(load(p("(lp0\nI1\naI2\na.")), [1, 2], "protocol 0 list with PUT and APPEND");
  assert.deepEqual(load(p([0x80, 4, 0x8f], "(K", [1], "K", [2, 0x90], ".")), new Set([1, 2]), "EMPTY_SET, ADDITEMS");
});

Deno.test("unpickle() reads sets and OrderedDicts through their allowed globals", () => {
  assert.deepEqual(load(p([0x80, 2], "c__builtin__\nset\n](K", [1], "K", [2], "e", [0x85], "R.")), new Set([1, 2]));
  assert.deepEqual(
    load(p([0x80, 2], "ccollections\nOrderedDict\n)R", [0x8c, 1], "b", "K", [1], "s.")),
    new Map([["b", 1]]),
  );
});

Deno.test("unpickle() refuses every global off the allow-list, whatever opcode names it", () => {
  assertRefused(p([0x80, 2], "cos\nsystem\n", [0x8c, 2], "ls", [0x85], "R."), /t\.pkl: refuses global "os\.system"/);
  assertRefused(p([0x80, 4, 0x8c, 8], "builtins", [0x8c, 4], "exec", [0x93], "."), /refuses global "builtins\.exec"/);
  assertRefused(p("(S'ls'\nios\nsystem\n."), /refuses global "os\.system"/);
  assertRefused(p("c__builtin__\ngetattr\n."), /refuses global "builtins\.getattr"/);
  assertRefused(p([0x80, 2, 0x82, 1], "."), /refuses global from the copyreg extension registry/);
});

Deno.test("unpickle() refuses to call or instantiate a global allowed as a name only", () => {
  assertRefused(p([0x80, 2], "ctorch\nFloatStorage\n)R."), /refuses to call "torch\.FloatStorage"/);
  assertRefused(p([0x80, 2], "cbuiltins\nobject\n)", [0x81], "."), /refuses to instantiate "builtins\.object"/);
  assertRefused(p([0x80, 2], "K", [1], ")R."), /corrupt pickle: call on a number/);
});

Deno.test("unpickle() keeps an argparse.Namespace as data: class name and BUILD state, never constructed", () => {
  const v = load(p([0x80, 2], "cargparse\nNamespace\n)", [0x81], "}", [0x8c, 2], "lr", "K", [3], "sb."));
  assert.deepEqual(v, { kind: "object", className: "argparse.Namespace", args: [], state: new Map([["lr", 3]]) });
});

Deno.test("unpickle() accepts an extended allow-list", () => {
  const allow = new Map<string, AllowedGlobal>([...DEFAULT_GLOBALS, ["my.Point", { instance: "object" }]]);
  const bytes = p([0x80, 2], "cmy\nPoint\n)", [0x81], ".");
  assert.deepEqual(load(bytes, allow), { kind: "object", className: "my.Point", args: [], state: null });
  assertRefused(bytes, /refuses global "my\.Point"/);
});

Deno.test("unpickle() names truncation and corruption, never throwing a RangeError", () => {
  assertRefused(p([0x80, 2], "X", [9, 0, 0, 0], "ab"), /truncated/);
  assertRefused(p([0x80, 2], "K"), /truncated/);
  assertRefused(p([0x80, 2], "N"), /truncated: the pickle ends at byte 3 before its STOP/);
  assertRefused(p([0x80, 2], "h", [7], "."), /corrupt pickle: memo key 7 was never stored/);
  assertRefused(p([0x80, 2], "."), /corrupt pickle: stack underflow/);
  assertRefused(p([0x80, 9], "N."), /pickle protocol 9/);
  assertRefused(p([0x80, 2, 0xfe], "."), /corrupt pickle: unknown opcode 0xfe/);
  assertRefused(p([0x80, 2], "Q."), /corrupt pickle: stack underflow/);
  assertRefused(p([0x80, 2], "NQ."), /persistent id appears where no storages are expected/);
});

Deno.test("halfToFloat() converts normal, subnormal and special half-precision values", () => {
  const cases: [number, number][] = [[0x3c00, 1], [0xc000, -2], [0x7bff, 65504], [0x0001, 2 ** -24], [0x8000, -0]];
  for (const [bits, want] of cases) assert.ok(Object.is(halfToFloat(bits), want), `0x${bits.toString(16)}`);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
});

Deno.test("unpickle() decodes Python 2 strings and protocol 0 escapes", () => {
  assert.equal(load(p("S'a\\nb\\x41'\n.")), "a\nbA");
  assert.equal(load(p("Vcaf\\u00e9\n.")), "café");
  assert.equal(load(p([0x80, 2, 0x55, 2, 0xc3, 0xa9], ".")), "é", "UTF-8 bytes");
  assert.equal(load(p([0x80, 2, 0x55, 1, 0xe9], ".")), "é", "else Latin-1");
  const v: PickleValue = load(
    p([0x80, 2], "c_codecs\nencode\n", [0x8c, 2, 0xc3, 0xbf], [0x8c, 6], "latin1", [0x86], "R."),
  );
  assert.deepEqual(v, new Uint8Array([0xff]), "protocol 2 bytes");
});

Deno.test("unpickle() says a pickled nn.Module needs re-saving as a state_dict", () => {
  assertRefused(
    p([0x80, 2], "ctorch.nn.modules.linear\nLinear\n."),
    /"torch\.nn\.modules\.linear\.Linear".*state_dict\(\)/,
  );
});

Deno.test("unpickle() reads a megabyte-long LONG4 in linear time", () => {
  const n = 1 << 20;
  const bytes = new Uint8Array(2 + 5 + n + 1);
  bytes.set([0x80, 2, 0x8b, 0, 0, 0x10, 0]);
  bytes[7 + n - 1] = 0x01;
  bytes[7 + n] = 0x2e;
  const start = performance.now();
  assert.equal(load(bytes), 1n << BigInt(8 * (n - 1)));
  assert.ok(performance.now() - start < 2000, "well under the time a quadratic build would take");
});
