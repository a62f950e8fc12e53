/** Byte-array helpers. @module */

/** The concatenation of `parts` in one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return concatTyped(parts, (n) => new Uint8Array(n));
}

/** The concatenation of typed arrays of one kind in a new one made by `make(totalLength)`. */
export function concatTyped<T extends Uint8Array | Float32Array | Float64Array | Int32Array>(
  parts: readonly T[],
  make: (length: number) => T,
): T {
  const out = make(parts.reduce((s, p) => s + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
