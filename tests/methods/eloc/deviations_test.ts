import assert from "node:assert/strict";
import { ELOC_TRAIN } from "@lib/methods/eloc/train.ts";
import { elocDeviations, README_EPSILON } from "@lib/methods/eloc/deviations.ts";
import type { ElocConfig } from "@lib/methods/eloc/config.ts";

/** The reference's protocol on CIFAR-10 DenseNet-BC (clean variant off, so nothing is held out of training). */
function paperConfig(over: Partial<ElocConfig> = {}): ElocConfig {
  return {
    settings: [{ idDataset: "cifar10", backbone: "densenet_bc_100", width: 1, epsilon: 0.002 }],
    methods: ["eloc"],
    variants: ["faithful"],
    seeds: [0],
    dataSeed: 0,
    oodDatasets: ["tin_crop", "tin_resize", "lsun_crop", "lsun_resize"],
    validationOod: "isun",
    trainLimit: null,
    heldOut: 0,
    nTest: null,
    nOod: null,
    nValidation: 1000,
    train: { ...ELOC_TRAIN },
    temperature: 1000,
    perturbations: ["ce"],
    scoreAblations: { singleMember: false, noPerturbation: false },
    epsilonSweep: [],
    evalBatchSize: 200,
    runDir: null,
    ...over,
  };
}

Deno.test("elocDeviations(): the reference's own protocol leaves only the fixed deviations", () => {
  assert.deepEqual(elocDeviations(paperConfig()).map((d) => d.id), ["seeds"]);
});

Deno.test("elocDeviations() flags each departure from the config: setting, ε, recipe, sizes, validation, variants, baselines", () => {
  const ids = (cfg: ElocConfig) => elocDeviations(cfg).map((d) => d.id);
  const fashion = paperConfig({
    settings: [{ idDataset: "fashion_mnist", backbone: "lenet", width: 0.5, epsilon: 0.0014 }],
    methods: ["eloc", "elocCe", "ce"],
    variants: ["faithful", "clean"],
    oodDatasets: ["mnist"],
    validationOod: "pixel_permuted",
    trainLimit: 10000,
    heldOut: 1000,
    nTest: 2000,
    nOod: 1000,
    nValidation: 500,
    train: { ...ELOC_TRAIN, epochs: 6, milestones: [3, 4], lr: 0.03, augment: [] },
    perturbations: ["ce", "entropy"],
  });
  assert.deepEqual(ids(fashion), [
    "setting fashion_mnist · lenet ×0.5",
    "recipe",
    "sizes",
    "validation",
    "held-out test positions",
    "clean selection",
    "baselines",
    "entropy perturbation",
    "seeds",
  ]);
  const recipe = elocDeviations(fashion).find((d) => d.id === "recipe")!;
  assert.match(recipe.ours, /6 epochs, lr ×0\.1 at epochs 3, 4; lr 0\.03; augmentation none \(a lower lr/);
  const eps = paperConfig({
    settings: [{ idDataset: "cifar100", backbone: "densenet_bc_100", width: 1, epsilon: 0.002 }],
  });
  const d = elocDeviations(eps).find((x) => x.id.startsWith("ε"))!;
  assert.equal(d.ours, "lsun_crop 0.002, lsun_resize 0.002", "the README's 0.003 for LSUN on CIFAR-100 DenseNet");
  const table = paperConfig({
    settings: [{
      idDataset: "cifar100",
      backbone: "densenet_bc_100",
      width: 1,
      epsilon: 0.002,
      epsilonByOod: { ...README_EPSILON["cifar100/densenet_bc_100"] },
    }],
  });
  assert.deepEqual(elocDeviations(table).map((x) => x.id), ["seeds"]);
  const sizes = elocDeviations(paperConfig({ variants: ["faithful", "clean"], heldOut: 1000 }));
  assert.match(sizes.find((x) => x.id === "sizes")!.ours, /the training split less the 1000 held-out images/);
});
