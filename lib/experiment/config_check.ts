/**
 * The checks every notebook config runs, in one place: each throws an `Error` that starts with the config's name,
 * names the field, and lists the valid values where there is a list (conventions C6).
 * @module
 */

/** The checks of one config type, bound to its name (the prefix of every message). */
export interface ConfigChecks {
  /** Throws `<Config>: <msg>`. */
  fail(msg: string): never;
  /** Throws unless `ok`: "<name> must be <what>, got <v>". */
  check(ok: boolean, name: string, v: unknown, what: string): void;
  /** An integer ≥ 1 (`null` allowed when `nullable`). */
  posInt(v: number | null, name: string, nullable?: boolean): void;
  /** A finite number > 0. */
  positive(v: number, name: string): void;
  /** lo ≤ v ≤ hi (or < hi when `open`). */
  inRange(v: number, name: string, lo: number, hi: number, open?: boolean): void;
  /** One of the valid values. */
  oneOf(v: string, name: string, valid: readonly string[]): void;
  /** A non-empty list without repeats, each entry valid when a list of valid values is given. */
  list(v: readonly unknown[], name: string, valid?: readonly string[]): void;
}

/**
 * The checks of the config type `config`.
 * @example Usage
 * ```ts
 * const c = configChecks("DemoConfig");
 * c.posInt(3, "epochs"); // ok
 * // c.oneOf("resnet", "backbone", ["lenet"]) throws 'DemoConfig: backbone "resnet" is unknown. Valid: lenet.'
 * ```
 */
export function configChecks(config: string): ConfigChecks {
  const fail = (msg: string): never => {
    throw new Error(`${config}: ${msg}`);
  };
  const check = (ok: boolean, name: string, v: unknown, what: string) => {
    if (!ok) fail(`${name} must be ${what}, got ${v}`);
  };
  const oneOf = (v: string, name: string, valid: readonly string[]) => {
    if (!valid.includes(v)) fail(`${name} "${v}" is unknown. Valid: ${valid.join(", ")}.`);
  };
  return {
    fail,
    check,
    posInt: (v, name, nullable = false) =>
      check((nullable && v === null) || (Number.isInteger(v) && v! >= 1), name, v, "a positive integer"),
    positive: (v, name) => check(v > 0 && Number.isFinite(v), name, v, "a finite number > 0"),
    inRange: (v, name, lo, hi, open = false) =>
      check(v >= lo && (open ? v < hi : v <= hi), name, v, `in [${lo}, ${hi}${open ? ")" : "]"}`),
    oneOf,
    list: (v, name, valid) => {
      if (v.length === 0) fail(`${name} is empty`);
      if (new Set(v).size !== v.length) fail(`${name} repeat: ${v.join(", ")}`);
      if (valid) v.forEach((x) => oneOf(String(x), `${name} entry`, valid));
    },
  };
}
