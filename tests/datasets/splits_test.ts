import assert from "node:assert/strict";
import { numpyLegacyPermutation } from "@lib/data/mt19937.ts";
import {
  applyClassSplit,
  CLASS_SPLITS,
  CMG_PARTITIONS,
  cmgSplit,
  ELOC_CLASS_PERMUTATIONS,
  elocHoldout,
  elocSplit,
  splitByClasses,
  vmdlsSplit,
} from "@lib/datasets/splits.ts";
import type { Dataset } from "@lib/datasets/types.ts";

function tenClasses(perClass = 3): Dataset {
  const n = 10 * perClass;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  return {
    name: "t",
    images: Uint8Array.from({ length: n }, (_, i) => i),
    labels,
    shape: [n, 1, 1, 1],
    classes: [..."abcdefghij"],
  };
}

Deno.test("CMG partitions 1–5 are the seen classes {012345}…{456789} from papers.md §4d", () => {
  assert.deepEqual(Object.values(CMG_PARTITIONS), [
    [0, 1, 2, 3, 4, 5],
    [1, 2, 3, 4, 5, 6],
    [2, 3, 4, 5, 6, 7],
    [3, 4, 5, 6, 7, 8],
    [4, 5, 6, 7, 8, 9],
  ]);
  assert.deepEqual(cmgSplit(3), { seen: [2, 3, 4, 5, 6, 7], unseen: [0, 1, 8, 9] });
});

Deno.test("ELOC class permutations equal NumPy's seed-3 permutation (checked with the MT19937 port)", () => {
  assert.deepEqual(ELOC_CLASS_PERMUTATIONS[10], [...numpyLegacyPermutation(10, 3)]);
  assert.deepEqual(ELOC_CLASS_PERMUTATIONS[100], [...numpyLegacyPermutation(100, 3)]);
});

Deno.test("elocSplit() folds are disjoint, cover all classes, and keep permutation order for the seen classes", () => {
  for (const c of [10, 100] as const) {
    const out = [1, 2, 3, 4, 5].flatMap((f) => elocSplit(f, c).unseen);
    assert.deepEqual([...out].sort((a, b) => a - b), Array.from({ length: c }, (_, i) => i));
    for (let f = 1; f <= 5; f++) assert.equal(elocSplit(f, c).seen.length, (c * 4) / 5);
  }
  assert.deepEqual(elocSplit(1, 10), { seen: [1, 2, 9, 6, 7, 0, 3, 8], unseen: [5, 4] });
  assert.throws(() => elocSplit(6, 10), /fold must be 1\.\.5/);
});

Deno.test("splitByClasses() re-indexes labels by position in the seen/unseen lists and keeps image order", () => {
  const ds = tenClasses();
  const { seen, unseen } = splitByClasses(ds, elocSplit(1, 10));
  assert.equal(seen.shape[0], 24);
  assert.equal(unseen.shape[0], 6);
  // class 1 is first in the seen list → label 0; class 2 → 1; class 9 → 2 …
  assert.deepEqual([...seen.labels.subarray(0, 8)], [5, 0, 1, 6, 3, 4, 7, 2]); // classes 0,1,2,3,6,7,8,9
  assert.deepEqual(seen.classes, ["b", "c", "j", "g", "h", "a", "d", "i"]);
  assert.deepEqual([...unseen.labels.subarray(0, 2)], [1, 0]);
  assert.deepEqual(unseen.classes, ["f", "e"]);
  assert.deepEqual([...seen.images.subarray(0, 3)], [0, 1, 2]);
  assert.throws(() => splitByClasses(ds, { seen: [1, 1], unseen: [] }), /lists a class twice/);
  assert.throws(() => splitByClasses(ds, { seen: [10], unseen: [] }), /class 10 does not exist/);
});

Deno.test("vmdlsSplit() keeps the first class_num classes as known", () => {
  assert.deepEqual(vmdlsSplit(6, 10), { seen: [0, 1, 2, 3, 4, 5], unseen: [6, 7, 8, 9] });
  const { seen, unseen } = applyClassSplit(tenClasses(), "vmdls", 6);
  assert.deepEqual([seen.shape[0], unseen.shape[0]], [18, 12]);
  assert.deepEqual([...unseen.labels.subarray(0, 4)], [0, 1, 2, 3]);
  assert.throws(() => vmdlsSplit(0, 10), /class_num must be in 1\.\.10/);
});

Deno.test("CLASS_SPLITS lists each protocol's folds and applyClassSplit() uses them", () => {
  assert.deepEqual(CLASS_SPLITS.cmg.folds(10), [1, 2, 3, 4, 5]);
  const { seen } = applyClassSplit(tenClasses(), "cmg", 5);
  assert.deepEqual(seen.classes, ["e", "f", "g", "h", "i", "j"]);
  assert.throws(() => CLASS_SPLITS.cmg.split(1, 100), /defined for 10 classes/);
});

Deno.test("elocHoldout() reproduces ELOC's 1 000-image validation indices", () => {
  const { val, test } = elocHoldout(10000);
  assert.equal(val.length, 1000);
  assert.equal(test.length, 9000);
  assert.deepEqual([...val.subarray(0, 5)], [5876, 6555, 1448, 3351, 231]);
  assert.equal(new Set([...val, ...test]).size, 10000);
});
