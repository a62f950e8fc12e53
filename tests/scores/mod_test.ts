import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { auroc } from "@lib/metrics/mod.ts";
import {
  detector,
  DETECTOR_NAMES,
  type DetectorName,
  DETECTORS,
  type DetectorSpec,
  resolveSpec,
} from "@lib/scores/mod.ts";
import { scoreAll } from "@lib/experiment/score.ts";
import { clusterSets, extractableStub } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const NEEDS = ["logits", "features", "featureList", "input"];

/**
 * Options for the stub's 4 features and 4×3 last layer, where a paper's percentile sized for 342–2048-d features
 * keeps nothing: ASH at p = 90 keeps 4 − round(3.6) = 0 activations (an error); DICE at p = 90 keeps 1 of the 3
 * non-zero contributions, masking two classes' weights. Every other entry runs with its defaults.
 */
const STUB_OPTS: Partial<Record<DetectorName, Record<string, unknown>>> = {
  ashP: { percentile: 65 }, // k = 4 − round(2.6) = 1
  ashB: { percentile: 65 },
  ashS: { percentile: 65 },
  dice: { p: 50 }, // threshold 0: the three class weights (contribution ≈ 2) kept, the zeros dropped
};

/**
 * AUROC floors below the common 0.95: GradNorm's factor ‖h‖₁ also counts the stub's OOD direction (feature 3, which
 * feeds no logit), so its OOD inputs have as large an ‖h‖₁ as ID ones and only the softmax part separates them
 * (AUROC ≈ 0.93 on these clusters).
 */
const MIN_AUROC: Partial<Record<DetectorName, number>> = { gradnorm: 0.9 };

Deno.test("DETECTORS: every entry is documented, scores separable clusters ID above OOD through scoreAll, and leaks nothing", async () => {
  assert.deepEqual([...DETECTOR_NAMES], Object.keys(DETECTORS));
  const net = extractableStub();
  const sets = clusterSets();
  const nId = sets.test.shape[0], nOod = sets.ood.unseen.shape[0];
  for (const name of DETECTOR_NAMES) {
    const d = detector(name);
    assert.equal(d, DETECTORS[name]);
    assert.ok(d.label.trim() && d.citation.trim() && d.formula.trim(), `${name}: label, citation, formula`);
    assert.ok(d.defaults && typeof d.defaults === "object" && !Array.isArray(d.defaults), `${name}: defaults object`);
    assert.ok(d.needs.length > 0 && d.needs.every((n) => NEEDS.includes(n)), `${name}: needs ${d.needs}`);
    if (d.paper !== undefined) {
      const nb = new URL(`../../notebooks/${d.paper}.ipynb`, import.meta.url);
      assert.ok(existsSync(nb), `${name}: paper "${d.paper}" names a notebook`);
    }
    const before = tf.memory().numTensors;
    const spec = { use: name, ...(STUB_OPTS[name] ? { opts: STUB_OPTS[name] } : {}) } as DetectorSpec;
    const table = await scoreAll(net, sets, [spec], { batchSize: 32, seed: 0 });
    assert.equal(tf.memory().numTensors, before, `${name}: tensors leaked`);
    const { id, ood } = table.scores[name]!;
    assert.ok(id instanceof Float32Array && id.length === nId, `${name}: [${nId}] ID scores, got ${id.length}`);
    assert.equal(ood.unseen!.length, nOod, `${name}: [${nOod}] OOD scores`);
    assert.ok([...id, ...ood.unseen!].every(Number.isFinite), `${name}: non-finite score`);
    const a = auroc(id, ood.unseen!);
    assert.ok(a > (MIN_AUROC[name] ?? 0.95), `${name}: AUROC ${a}`);
    assert.equal(table.states[name] === null, d.fit === undefined, `${name}: a state iff it fits`);
  }
  net.dispose();
});

Deno.test("resolveSpec() merges options over the defaults and rejects unknown ids and unknown options", () => {
  const r = resolveSpec({ use: "knn", opts: { k: 7 }, as: "knn7" });
  assert.equal(r.key, "knn7");
  assert.equal(r.detector, DETECTORS.knn);
  assert.deepEqual(r.opts, { ...DETECTORS.knn.defaults, k: 7 });
  assert.equal(resolveSpec({ use: "msp" }).key, "msp");
  assert.throws(
    () => resolveSpec({ use: "mahalanobi" as DetectorName } as DetectorSpec),
    /Unknown detector "mahalanobi"\. Valid ids: msp, maxLogit, energy, odin/,
  );
  assert.throws(
    () => resolveSpec({ use: "knn", opts: { K: 5 } } as unknown as DetectorSpec),
    /Detector "knn" has no option "K"\. Its options: k, bankSize\./,
  );
  assert.throws(
    () => resolveSpec({ use: "maxLogit", opts: { temperature: 2 } } as DetectorSpec),
    /Its options: none\./,
  );
});
