/**
 * Fixtures for the experiment layer tests (and the method tests built on it): tiny 8×8 gray datasets (two
 * classes a small CNN separates in a few steps, and unlabeled OOD sets), a toy `EvalSets`, and leak/closeness
 * helpers.
 */
import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { Rng } from "@lib/data/rng.ts";
import type { Dataset } from "@lib/datasets/mod.ts";
import type { EvalSets } from "@lib/experiment/mod.ts";

export const SIZE = 8;

/**
 * Class 0 = bright top half, class 1 = bright bottom half, plus uniform noise (±40 gray levels); labels
 * alternate 0, 1, 0, 1, … so every prefix is balanced.
 */
export function toyDataset(n: number, seed: number, name = "toy"): Dataset {
  const rng = new Rng(`toy/${seed}`);
  const per = SIZE * SIZE;
  const images = new Uint8Array(n * per);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    labels[i] = c;
    for (let p = 0; p < per; p++) {
      const top = p < per / 2;
      const base = (c === 0) === top ? 200 : 40;
      images[i * per + p] = Math.max(0, Math.min(255, Math.round(base + rng.uniform(-40, 40))));
    }
  }
  return { name, images, labels, shape: [n, SIZE, SIZE, 1], classes: ["top", "bottom"] };
}

/** Unlabeled uniform noise images of the toy shape. */
export function noiseDataset(n: number, seed: number, name = "noise"): Dataset {
  const rng = new Rng(`noise/${seed}`);
  const images = Uint8Array.from({ length: n * SIZE * SIZE }, () => rng.int(256));
  return { name, images, labels: new Int32Array(n).fill(-1), shape: [n, SIZE, SIZE, 1], classes: [] };
}

/** Mid-gray images with a bright centre: another unlabeled OOD set. */
export function blobDataset(n: number, name = "blob"): Dataset {
  const images = new Uint8Array(n * SIZE * SIZE).fill(128);
  for (let i = 0; i < n; i++) {
    for (const p of [27, 28, 35, 36]) images[i * SIZE * SIZE + p] = 255;
  }
  return { name, images, labels: new Int32Array(n).fill(-1), shape: [n, SIZE, SIZE, 1], classes: [] };
}

/** A toy setting: 96 training images, 40 test images, two far-OOD sets of 30 images. The `id` claims to be MNIST. */
export function toySets(): EvalSets {
  const train = toyDataset(96, 1, "toy-train");
  return {
    id: "mnist",
    train,
    heldOut: toyDataset(0, 0, "toy-held-out"),
    test: toyDataset(40, 2, "toy-test"),
    ood: { noise: noiseDataset(30, 3), blob: blobDataset(30) },
    oodGroups: { noise: "far", blob: "far" },
    extra: {},
  };
}

/** Asserts |actual − expected| ≤ tol elementwise. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = ""): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    assert.ok(Math.abs(a - e) <= tol, `${what}[${i}]: got ${a}, expected ${e} (tol ${tol})`);
  }
}

/** Runs `f` and asserts that the number of live tensors did not change. */
export async function assertNoLeak<T>(f: () => Promise<T> | T, what = "tensors leaked"): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await f();
  assert.equal(tf.memory().numTensors, before, what);
  return out;
}
