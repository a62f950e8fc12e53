import assert from "node:assert/strict";
import { checkUnleashingMaskConfig, type UnleashingMaskConfig } from "@lib/methods/unleashing_mask/config.ts";
import { SMALL } from "./_fixtures.ts";
import { umDeviations } from "@lib/methods/unleashing_mask/notes.ts";

Deno.test("checkUnleashingMaskConfig() accepts a valid config and names the field of an invalid one", () => {
  assert.equal(checkUnleashingMaskConfig(SMALL), SMALL);
  const bad = (patch: Partial<UnleashingMaskConfig>, re: RegExp) =>
    assert.throws(() => checkUnleashingMaskConfig({ ...SMALL, ...patch }), re);
  bad({ variants: ["lazy" as never] }, /unknown variant "lazy"\. Valid: faithful, clean/);
  bad({ variants: [] }, /variants is empty/);
  bad({ aux: { ...SMALL.aux, name: "mnist" } }, /aux\.name "mnist" must differ/);
  bad({ oodDatasets: ["fashion_mnist"] }, /contains the ID dataset/);
  bad({ methods: ["UMAPX" as never] }, /unknown method "UMAPX"\. Valid: ce-ft, um, umap, oe, oe\+um/);
  bad({ estimate: { ...SMALL.estimate, keepRate: 1.5 } }, /estimate\.keepRate must be in \(0, 1\]/);
  bad({ scores: ["knn" as never] }, /unknown score "knn"/);
  bad({ seeds: [1, 1] }, /seeds repeat/);
  bad({ variants: ["clean"], scores: ["mahalanobis"], data: { ...SMALL.data, heldOut: 2 } }, /heldOut/);
});

Deno.test("umDeviations() lists each quirk once, or once per variant where they differ, and the run's deviations", () => {
  const d = umDeviations(SMALL, { featureList: false, profile: "smoke" });
  for (const x of d) assert.ok(x.paper.length > 10 && x.ours.length > 10, x.id);
  const msp = d.filter((x) => x.id === "msp-double-softmax");
  assert.deepEqual(msp.map((x) => x.variant), ["faithful", "clean"]);
  assert.ok(d.some((x) => x.id === "criterion-flag" && x.variant === undefined && /CE-FT/.test(x.ours)));
  assert.ok(d.some((x) => x.id === "mahalanobis-layers") && d.some((x) => /pixel_permuted/.test(x.ours)));
  assert.ok(d.some((x) => x.id === "held-out" && /20 training images are held out/.test(x.ours)));
  assert.match(d.find((x) => x.id === "ood-sets")!.paper, /CIFAR100, iNaturalist, SUN, Places, dtd, LSUN, SVHN/);
});
