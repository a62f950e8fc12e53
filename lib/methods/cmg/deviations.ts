/**
 * The CMG notebook's deviations from the paper and its code (shaoyijia/CMG@265cc2c, papers.md §4), as `Deviation`
 * data for the shared `deviationsView`, generated from the config: the stage-1 and stage-2 recipes against the
 * reference's, the networks' sizes, the data, and the fixed methodological deviations.
 * @module
 */
import type { Deviation } from "../../experiment/claims.ts";
import { CMG_CLASSIFIER } from "./classifier.ts";
import { CMG_FINETUNE } from "./finetune.ts";
import { CMG_REFERENCE, type CmgConfig, cmgFamily, type PerDataset } from "./config.ts";
import { CMG_SIGMA } from "./generate.ts";

const differs = (a: Record<string, unknown>, b: Record<string, unknown>, keys: readonly string[]) =>
  keys.filter((k) => a[k] !== b[k]);

/**
 * The deviations of a config: recipes (`train_classifier.py`, `train_cvae.py`, `training/fine_tune.py`), widths and
 * the CVAE's encoder, σ, data sizes, and the fixed ones (clean variant, baselines over the K seen logits, random
 * streams, seeds).
 * @example Usage
 * ```ts ignore
 * deviationsView(cmgDeviations(cfg));
 * ```
 */
export function cmgDeviations(cfg: CmgConfig): Deviation[] {
  const out: Deviation[] = [];
  // Per-dataset values (epochs, σ) are keyed by the family a setting uses (a split setting's image shape).
  const datasets = [...new Set(cfg.settings.map((s) => cmgFamily(s)))];
  const epochs = (of: PerDataset<number>) =>
    datasets.filter((d) => of[d] !== CMG_REFERENCE.epochs[d]).map((d) => `epochs ${of[d]} (${d})`);
  const referenceEpochs = datasets.map((d) => `${CMG_REFERENCE.epochs[d]} epochs (${d})`).join(", ");
  const clf = [
    ...epochs(cfg.classifier.epochs),
    ...differs(cfg.classifier, CMG_CLASSIFIER, ["batchSize", "lr"]).map((k) =>
      `${k} ${cfg.classifier[k as "batchSize" | "lr"]}`
    ),
  ];
  if (clf.length) {
    out.push({
      id: "stage 1: classifier",
      paper: `Adam 1e-3, batch 512, ${referenceEpochs} (\`training/train_classifier.py\`, \`train.py\`)`,
      ours: clf.join(", "),
    });
  }
  const mnist = datasets.includes("mnist");
  const vae = [
    ...epochs(cfg.cvae.epochs),
    ...differs(cfg.cvae, { ...CMG_CLASSIFIER, encoderPadding: mnist ? 15 : cfg.cvae.encoderPadding, width: 1 }, [
      "batchSize",
      "lr",
      "encoderPadding",
      "width",
    ]).map((k) => `${k} ${cfg.cvae[k as "batchSize" | "lr" | "encoderPadding" | "width"]}`),
  ];
  if (vae.length) {
    out.push({
      id: "stage 1: CVAE",
      paper: `Adam 1e-3, batch 512, ${referenceEpochs} (\`training/train_cvae.py\`)` +
        (mnist
          ? "; MNIST encoder convolutions with padding 15 (a 28×28 map, 100 352-wide flatten, ≈ 110 M parameters; " +
            "`models/conv/nets.py`)"
          : ""),
      ours: vae.join(", ") +
        (mnist && cfg.cvae.encoderPadding === 1
          ? " (padding 1: the encoder ends at 7×7, flatten 6 272, for a CPU)"
          : ""),
    });
  }
  const ft = differs(cfg.finetune, CMG_FINETUNE, ["epochs", "batchSize", "genPerStep", "lr", "mu"])
    .map((k) => `${k} ${cfg.finetune[k as "epochs" | "batchSize" | "genPerStep" | "lr" | "mu"]}`);
  const settings = new Set(cfg.settings.map((s) => s.setting));
  for (const n of [1, 2] as const) {
    const key = n === 1 ? "setting1" : "setting2";
    if (settings.has(n) && cfg.finetune.evalEvery[key] !== CMG_REFERENCE.evalEvery[key]) {
      ft.push(`evaluation every ${cfg.finetune.evalEvery[key]} steps in Setting ${n}`);
    }
  }
  if (ft.length) {
    out.push({
      id: "stage 2",
      paper: "15 epochs of the head, Adam 1e-4, 128 ID + 128 generated images per step, μ = 0.1, evaluation every " +
        "20 steps in Setting 1 and 100 in Setting 2 (`training/fine_tune.py`)",
      ours: ft.join(", "),
    });
  }
  const widths = [...new Set(cfg.settings.map((s) => s.width))].filter((w) => w !== 1);
  if (widths.length) {
    out.push({
      id: "classifier width",
      paper: "the 9-conv CNN at widths 64/128 (MNIST) or ResNet-18 (CIFAR-10), and a 512-unit head " +
        "(`models/conv/cnn.py`, `models/conv/nets.py`, `models/fc/nets.py`)",
      ours: `width ×${widths.join(", ×")} (channels and the head's hidden layer)`,
    });
  }
  const sigmas = datasets.filter((d) => cfg.sigma[d] !== CMG_SIGMA[d]);
  if (sigmas.length) {
    out.push({
      id: "σ",
      paper: "σ = 3 (MNIST), 5 (CIFAR-10)",
      ours: sigmas.map((d) => `σ = ${cfg.sigma[d]} (${d})`).join(", "),
    });
  }
  if (cfg.trainLimit !== null || cfg.nTest !== null) {
    out.push({
      id: "sizes",
      paper: "the whole training split of the seen classes (all of CIFAR-10's in Setting 2); the whole test split",
      ours: [
        cfg.trainLimit !== null ? `a seeded subset of ${cfg.trainLimit} training images before the class split` : "",
        cfg.nTest !== null ? `${cfg.nTest} test images before the class split` : "",
      ].filter(Boolean).join("; "),
    });
  }
  if (cfg.oodLimit !== null && cfg.settings.some((s) => s.setting === 2)) {
    out.push({
      id: "Setting-2 OOD sets",
      paper: "every image of each OOD set (SVHN's 26 032 test images, 10 000 of the others)",
      ours: `a seeded subset of ${cfg.oodLimit} images per OOD set`,
    });
  }
  if (cfg.settings.some((s) => s.setting === 2) && cfg.variants.includes("faithful")) {
    out.push({
      id: "Setting 2, faithful: one fine-tuning",
      paper: "`eval.py` fine-tunes once per OOD set (`--ood_dataset`), each run keeping its own maximum",
      ours: "one fine-tuning evaluated on every OOD set, the maximum kept per set: the same numbers when the runs " +
        "are seeded alike (the OOD set changes no random draw of the fine-tuning)",
      variant: "faithful",
    });
  }
  if (cfg.variants.includes("clean")) {
    out.push({
      id: "clean",
      paper: "the maximum AUROC over all stage-2 evaluations is reported (a selection on the test set)",
      ours: "also the last iterate's AUROC",
      variant: "clean",
    });
  }
  if (cfg.methods.includes("ce")) {
    out.push({
      id: "baselines",
      paper: "the code scores only the fine-tuned heads (`eval.py` reports CMG's maximum AUROC); no baseline run",
      ours: "the stage-1 classifier of this run scored with MSP and Energy over its K seen logits (Energy over " +
        "those logits is CMG-e's test score on the stage-1 model)",
    });
  }
  out.push(
    {
      id: "random streams",
      paper: "one global torch generator: `get_m` draws before CMG-e's training, so CMG-s and CMG-e see different " +
        "batches and generated images",
      ours: "separate derived streams: every run of a (setting, seed) sees the same ID batches; the margins pass " +
        "has its own stream",
    },
    {
      id: "seeds",
      paper: "seed 123, one run per setting",
      ours: `${cfg.seeds.length} seed(s) per setting, every network seeded from the run seed`,
    },
  );
  return out;
}
