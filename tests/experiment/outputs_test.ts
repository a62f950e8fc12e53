import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { createBackbone } from "@lib/backbones/mod.ts";
import { batchToTensor } from "@lib/data/tensors.ts";
import { extractOutputs } from "@lib/experiment/outputs.ts";
import { argmaxRows, firstRows, matrixTensor, normalizeRows } from "@lib/scores/matrix.ts";
import { headDataset } from "@lib/datasets/subset.ts";
import { assertClose, assertNoLeak, SIZE, toyDataset } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("extractOutputs() equals the backbone's features and logits on the whole set, across batch boundaries", async () => {
  const net = createBackbone("lenet", { numClasses: 2, inputShape: [SIZE, SIZE, 1], width: 0.25 });
  const ds = toyDataset(23, 0);
  const out = await assertNoLeak(() => extractOutputs(net, ds, { batchSize: 10 }));
  assert.equal(out.n, 23);
  assert.equal(out.logits.dim, 2);
  assert.equal(out.features.dim, net.featureDim);
  assert.equal(out.featureList, undefined);
  assert.deepEqual(out.labels, ds.labels);
  const x = batchToTensor(ds.images, ds.shape, net.normalization);
  const [f, l] = [net.features(x), net.logits(x)];
  assertClose(out.features.data, f.dataSync(), 1e-5, "features");
  assertClose(out.logits.data, l.dataSync(), 1e-5, "logits");
  tf.dispose([x, f, l]);
  net.model.dispose();
});

Deno.test("extractOutputs() honours limit and returns featureList for a backbone that has one", async () => {
  const net = createBackbone("mnist_conv", { numClasses: 2, inputShape: [SIZE, SIZE, 1], width: 0.1 });
  assert.ok(net.featureList, "mnist_conv has stages");
  const ds = toyDataset(12, 1);
  const out = await assertNoLeak(() => extractOutputs(net, ds, { batchSize: 5, featureList: true, limit: 7 }));
  assert.equal(out.n, 7);
  assert.equal(out.labels.length, 7);
  assert.equal(out.featureList!.length, net.featureListDims!.length);
  const x = batchToTensor(ds.images.subarray(0, 7 * SIZE * SIZE), [7, SIZE, SIZE, 1], net.normalization);
  const layers = net.featureList!(x);
  out.featureList!.forEach((m, i) => {
    assert.equal(m.dim, net.featureListDims![i]);
    assertClose(m.data, layers[i]!.dataSync(), 1e-5, `featureList[${i}]`);
  });
  tf.dispose([x, ...layers]);
  net.model.dispose();
});

Deno.test("extractOutputs() refuses featureList for a backbone without stages", async () => {
  const net = createBackbone("lenet", { numClasses: 2, inputShape: [SIZE, SIZE, 1], width: 0.25 });
  const { featureList: _list, featureListDims: _dims, ...stageless } = net;
  await assert.rejects(
    () => extractOutputs({ ...stageless, name: "stageless" }, toyDataset(4, 0), { featureList: true }),
    /stageless has no featureList/,
  );
  net.model.dispose();
});

Deno.test("argmaxRows(), firstRows(), headDataset(), matrixTensor() and normalizeRows() on hand-made inputs", () => {
  const m = { data: Float32Array.of(1, 3, 2, 5, 5, 0, -1, -2, -3), dim: 3 };
  assert.deepEqual([...argmaxRows(m)], [1, 0, 0], "ties keep the first maximum");
  assert.deepEqual([...firstRows(m, 2).data], [1, 3, 2, 5, 5, 0]);
  assert.equal(firstRows(m, 10).data.length, 9);
  const ds = toyDataset(5, 0);
  const head = headDataset(ds, 3);
  assert.deepEqual(head.shape, [3, SIZE, SIZE, 1]);
  assert.deepEqual([...head.labels], [0, 1, 0]);
  assert.deepEqual(head.images, ds.images.subarray(0, 3 * SIZE * SIZE));
  const t = matrixTensor(m);
  assert.deepEqual(t.shape, [3, 3]);
  t.dispose();
  assertClose(normalizeRows({ data: Float32Array.of(3, 4, 0, 0), dim: 2 }).data, [0.6, 0.8, 0, 0], 1e-6, "unit rows");
});
