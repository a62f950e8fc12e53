import assert from "node:assert/strict";
import { checkUnleashingMaskConfig, type UnleashingMaskConfig } from "@lib/methods/unleashing_mask/config.ts";
import { SMALL } from "./_fixtures.ts";
import { deviations, QUIRKS } from "@lib/methods/unleashing_mask/notes.ts";

Deno.test("checkUnleashingMaskConfig() accepts a valid config and names the field of an invalid one", () => {
  assert.equal(checkUnleashingMaskConfig(SMALL), SMALL);
  const bad = (patch: Partial<UnleashingMaskConfig>, re: RegExp) =>
    assert.throws(() => checkUnleashingMaskConfig({ ...SMALL, ...patch }), re);
  bad({ variant: "lazy" as never }, /unknown variant "lazy"\. Valid: faithful, clean/);
  bad({ aux: { ...SMALL.aux, name: "mnist" } }, /aux\.name "mnist" must differ/);
  bad({ oodDatasets: ["fashion_mnist"] }, /contains the ID dataset/);
  bad({ methods: ["UMAPX" as never] }, /unknown method "UMAPX"\. Valid: CE-FT, UM, UMAP, OE, OE\+UM/);
  bad({ estimate: { ...SMALL.estimate, keepRate: 1.5 } }, /estimate\.keepRate must be in \(0, 1\]/);
  bad({ scores: ["knn" as never] }, /unknown score "knn"/);
  bad({ seeds: [1, 1] }, /seeds repeat/);
  bad({ variant: "clean", scores: ["mahalanobis"], data: { ...SMALL.data, heldOut: 2 } }, /heldOut/);
});

Deno.test("every quirk says what the code does and how the faithful and clean variants handle it", () => {
  assert.ok(QUIRKS.length >= 8);
  for (const q of QUIRKS) for (const k of ["what", "faithful", "clean"] as const) assert.ok(q[k].length > 10, q.id);
  assert.ok(QUIRKS.some((q) => q.id === "criterion-flag" && /CE-FT/.test(q.faithful)), "the README-command quirk");
  const d = deviations(SMALL, { featureList: false, profile: "smoke" });
  assert.ok(d.some((l) => /penultimate layer/.test(l)) && d.some((l) => /pixel_permuted/.test(l)));
});
