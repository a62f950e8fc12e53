/** Conv geometries shared by the conv-gradient tests: kernel sizes 1–7, strides 1–3, every padding kind. */
import type { tf } from "@lib/tf.ts";

/** Every padding form `tf.conv2d` accepts. */
export type Pad = "same" | "valid" | number | tf.backend_util.ExplicitPadding;

/** One NHWC convolution: input, filter, strides, padding. */
export interface ConvCase {
  /** Input [N, H, W, C]. */
  x: [number, number, number, number];
  /** Filter [KH, KW, C, CO]. */
  w: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: "floor" | "round" | "ceil";
}

/** The shared cases: small enough for the cpu reference, odd sizes, batch 1, 1/3/odd channels. */
export const CONV_CASES: ConvCase[] = [
  { x: [1, 5, 5, 1], w: [1, 1, 1, 2], strides: 1, pad: "valid" },
  { x: [2, 7, 7, 3], w: [3, 3, 3, 4], strides: 1, pad: "same" },
  { x: [2, 7, 7, 3], w: [3, 3, 3, 5], strides: 2, pad: "same" },
  { x: [1, 8, 8, 3], w: [3, 3, 3, 3], strides: 2, pad: "valid" },
  { x: [2, 8, 8, 3], w: [3, 3, 3, 5], strides: 2, pad: "same" },
  { x: [1, 11, 11, 1], w: [3, 3, 1, 1], strides: 3, pad: "valid" },
  { x: [2, 10, 10, 3], w: [3, 3, 3, 4], strides: 3, pad: "same" },
  { x: [2, 9, 8, 5], w: [5, 5, 5, 6], strides: 1, pad: "valid" },
  { x: [1, 9, 8, 4], w: [5, 5, 4, 3], strides: 2, pad: "same" },
  { x: [1, 12, 12, 8], w: [5, 5, 8, 7], strides: 2, pad: "same" },
  { x: [3, 8, 8, 4], w: [1, 1, 4, 6], strides: 2, pad: "same" },
  { x: [1, 9, 9, 3], w: [1, 1, 3, 5], strides: 3, pad: "valid" },
  { x: [2, 11, 10, 3], w: [7, 7, 3, 4], strides: 2, pad: "same" },
  { x: [1, 12, 12, 2], w: [7, 7, 2, 3], strides: 3, pad: "same" },
  { x: [1, 9, 9, 1], w: [7, 7, 1, 2], strides: 1, pad: "same" },
  { x: [2, 12, 12, 2], w: [4, 4, 2, 3], strides: 2, pad: "same" },
  { x: [2, 9, 11, 3], w: [3, 5, 3, 2], strides: [1, 2], pad: "same" },
  { x: [1, 10, 7, 3], w: [5, 3, 3, 4], strides: [3, 1], pad: "valid" },
  { x: [4, 6, 6, 8], w: [3, 3, 8, 8], strides: 1, pad: "same" },
  { x: [2, 7, 7, 3], w: [3, 3, 3, 4], strides: 1, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [1, 9, 9, 2], w: [3, 3, 2, 3], strides: 2, pad: [[0, 0], [2, 0], [1, 1], [0, 0]] },
  // Padding wider than the kernel: some output rows see only padding, and dx must crop dy.
  { x: [1, 6, 6, 2], w: [3, 3, 2, 3], strides: 1, pad: [[0, 0], [3, 3], [4, 2], [0, 0]] },
  { x: [1, 7, 7, 3], w: [3, 3, 3, 2], strides: 2, pad: [[0, 0], [4, 3], [3, 5], [0, 0]] },
  { x: [2, 8, 7, 3], w: [3, 3, 3, 4], strides: 2, pad: 1 },
  // KH·KW·C ≤ CO / 2: the filter gradient takes its im2col path.
  { x: [2, 6, 6, 2], w: [1, 1, 2, 5], strides: 1, pad: "valid" },
  { x: [2, 9, 9, 3], w: [1, 1, 3, 8], strides: 2, pad: "same" },
  { x: [2, 7, 7, 1], w: [3, 3, 1, 18], strides: 2, pad: "same" },
  { x: [1, 8, 8, 1], w: [2, 2, 1, 8], strides: 1, pad: [[0, 0], [1, 0], [0, 1], [0, 0]] },
  { x: [1, 10, 9, 1], w: [3, 3, 1, 20], strides: 3, pad: "valid" },
  { x: [1, 9, 9, 3], w: [5, 5, 3, 2], strides: 3, pad: 2, dimRoundingMode: "ceil" },
];

/** A readable name for a case, e.g. `x[2,7,7,3] w3x3→5 s2 same`. */
export function caseName(c: ConvCase): string {
  const pad = typeof c.pad === "string" || typeof c.pad === "number" ? String(c.pad) : JSON.stringify(c.pad);
  const round = c.dimRoundingMode ? ` ${c.dimRoundingMode}` : "";
  return `x${JSON.stringify(c.x)} w${c.w[0]}x${c.w[1]}→${c.w[3]} s${c.strides} ${pad}${round}`;
}
