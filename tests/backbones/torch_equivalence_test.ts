/**
 * The TF.js backbones compute the same function as the reference PyTorch networks: with the weights of a narrow
 * reference network copied in (testdata/torch_outputs.py writes them, with PyTorch's outputs), logits, features
 * and featureList agree in inference mode. This pins what a parameter count cannot: layer order, padding of
 * strided convolutions, shortcut wiring, concatenation order, flatten order and the VMDLS feature slices.
 */
import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { type BackboneOptions, createBackbone } from "@lib/backbones/mod.ts";

await initBackend({ backend: "native", log: null });

interface Entry {
  offset: number;
  shape: number[];
}
interface Case {
  backbone: string;
  options: BackboneOptions & Record<string, unknown>;
  input: Entry;
  logits: Entry;
  features: Entry;
  featureList: Entry[] | null;
  weights: Record<"conv" | "bn" | "dense", Entry[][]>;
}

const dir = new URL("./testdata/", import.meta.url);
const index = JSON.parse(await Deno.readTextFile(new URL("torch_outputs.json", dir))) as {
  cases: Record<string, Case>;
};
const bytes = await Deno.readFile(new URL("torch_outputs.bin", dir));
const blob = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);

const read = (e: Entry) => blob.slice(e.offset / 4, e.offset / 4 + e.shape.reduce((a, b) => a * b, 1));
const tensor = (e: Entry) => tf.tensor(read(e), e.shape);

/** TF.js layer class → weight group of the reference file. */
const KIND: Record<string, "conv" | "bn" | "dense"> = {
  Conv2D: "conv",
  BatchNormalization: "bn",
  NonAffineBatchNormalization: "bn",
  Dense: "dense",
};

/** Copies the reference weights into the model: per layer kind, in the order the layers were created. */
function loadReferenceWeights(model: tf.LayersModel, weights: Case["weights"]): void {
  const next = { conv: 0, bn: 0, dense: 0 };
  const layers = model.layers.filter((l) => l.weights.length > 0).sort((a, b) => a.id - b.id);
  for (const layer of layers) {
    const kind = KIND[layer.getClassName()];
    assert.ok(kind, `unexpected layer with weights: ${layer.getClassName()}`);
    const source = weights[kind][next[kind]++];
    assert.ok(source, `the reference has fewer ${kind} layers than the TF.js model`);
    const values = source.map(tensor);
    layer.setWeights(values);
    tf.dispose(values);
  }
  for (const kind of ["conv", "bn", "dense"] as const) {
    assert.equal(next[kind], weights[kind].length, `every reference ${kind} layer was used`);
  }
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-3);
  const diff = actual.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i]!)), 0);
  assert.ok(diff <= 2e-4 * scale, `${what}: max |TF.js − PyTorch| = ${diff}, max |PyTorch| = ${scale}`);
}

for (const [key, c] of Object.entries(index.cases)) {
  Deno.test(`createBackbone("${c.backbone}") matches the PyTorch reference's outputs given its weights (${key})`, async () => {
    const net = createBackbone(c.backbone, c.options);
    try {
      loadReferenceWeights(net.model, c.weights);
      const x = tensor(c.input) as tf.Tensor4D;
      const outputs = [net.logits(x), net.features(x)];
      assertClose(await outputs[0]!.data() as Float32Array, read(c.logits), "logits");
      assertClose(await outputs[1]!.data() as Float32Array, read(c.features), "features");
      if (c.featureList) {
        const list = net.featureList!(x);
        assert.equal(list.length, c.featureList.length, "featureList length");
        for (const [i, f] of list.entries()) {
          assertClose(await f.data() as Float32Array, read(c.featureList[i]!), `featureList[${i}]`);
        }
        outputs.push(...list);
      } else {
        assert.equal(net.featureList, undefined);
      }
      tf.dispose([x, ...outputs]);
    } finally {
      net.model.dispose();
    }
  });
}
