import assert from "node:assert/strict";
import { CIFAR10_CLASSES, loadCifar10, loadCifar100, parseCifarBinary } from "@lib/datasets/cifar.ts";
import { DatasetFormatError, DatasetMissingError } from "@lib/datasets/errors.ts";
import { fixture } from "./_fixtures.ts";
import { FIXTURE_FACTS, pattern } from "./testdata/make_fixtures.ts";

Deno.test("loadCifar10() reads the binary batches in order and converts planar RGB to NHWC", () => {
  const train = loadCifar10("train", fixture("root/cifar10"));
  const test = loadCifar10("test", fixture("root/cifar10"));
  assert.deepEqual(train.shape, [FIXTURE_FACTS.cifar10.train, 32, 32, 3]);
  assert.deepEqual(test.shape, [FIXTURE_FACTS.cifar10.test, 32, 32, 3]);
  assert.deepEqual([...train.labels], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual([...test.labels], [3, 8, 8]);
  assert.deepEqual(test.classes, [...CIFAR10_CLASSES]);
  // record i of test_batch was written from pattern(32, 32, 3, 200 + i) in HWC order
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(test.images.subarray(i * 3072, (i + 1) * 3072), pattern(32, 32, 3, 200 + i));
  }
});

Deno.test("loadCifar100() uses the fine labels by default and the coarse ones on request, with names from the files", () => {
  const fine = loadCifar100("test", fixture("root/cifar100"));
  assert.deepEqual([...fine.labels], [99, 98, 97]);
  assert.equal(fine.classes.length, 100);
  assert.equal(fine.classes[99], "fine99");
  const coarse = loadCifar100("train", fixture("root/cifar100"), { labels: "coarse" });
  assert.deepEqual([...coarse.labels], [0, 1]);
  assert.equal(coarse.classes.length, 20);
});

Deno.test("parseCifarBinary() rejects a file whose size is not a multiple of the record size", () => {
  const f = fixture("cifar/bad/not-multiple.bin");
  assert.throws(
    () => parseCifarBinary(Deno.readFileSync(f), f, { labelBytes: 1, labelIndex: 0, numClasses: 10 }),
    (e: unknown) =>
      e instanceof DatasetFormatError && e.message.startsWith(f) &&
      /not a multiple of the 3073-byte record size/.test(e.message),
  );
});

Deno.test("parseCifarBinary() rejects an empty file and an out-of-range label", () => {
  const empty = fixture("cifar/bad/empty.bin");
  assert.throws(
    () => parseCifarBinary(Deno.readFileSync(empty), empty, { labelBytes: 1, labelIndex: 0, numClasses: 10 }),
    /empty\.bin: empty file/,
  );
  const bad = fixture("cifar/bad/label-out-of-range.bin");
  assert.throws(
    () => parseCifarBinary(Deno.readFileSync(bad), bad, { labelBytes: 1, labelIndex: 0, numClasses: 10 }),
    /label-out-of-range\.bin: record 1 has label 10, outside 0\.\.9/,
  );
});

Deno.test("loadCifar10() on a folder without the batches raises DatasetMissingError naming the command", () => {
  assert.throws(
    () => loadCifar10("test", fixture("root/empty_set")),
    (e: unknown) =>
      e instanceof DatasetMissingError && /deno task data cifar10/.test(e.message) &&
      /test_batch\.bin does not exist/.test(e.message),
  );
});
