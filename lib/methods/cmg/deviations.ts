/**
 * The CMG notebook's deviations from the paper and its code (shaoyijia/CMG@265cc2c, papers.md §4), as `Deviation`
 * data for the shared `deviationsView`, generated from the config: the stage-1 and stage-2 recipes against the
 * reference's, the networks' sizes, the data, and the fixed methodological deviations.
 * @module
 */
import type { Deviation } from "../../experiment/claims.ts";
import { CMG_CLASSIFIER } from "./classifier.ts";
import { CMG_FINETUNE } from "./finetune.ts";
import type { CmgConfig } from "./config.ts";

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
  const clf = differs(cfg.classifier, CMG_CLASSIFIER, ["epochs", "batchSize", "lr"]);
  if (clf.length) {
    out.push({
      id: "stage 1: classifier",
      paper: "Adam 1e-3, batch 512, 100 epochs (`training/train_classifier.py`, `train.py`)",
      ours: clf.map((k) => `${k} ${cfg.classifier[k as keyof CmgConfig["classifier"]]}`).join(", "),
    });
  }
  const vae = differs(cfg.cvae, { ...CMG_CLASSIFIER, encoderPadding: 15, width: 1 }, [
    "epochs",
    "batchSize",
    "lr",
    "encoderPadding",
    "width",
  ]);
  if (vae.length) {
    out.push({
      id: "stage 1: CVAE",
      paper:
        "Adam 1e-3, batch 512, 100 epochs (`training/train_cvae.py`); encoder convolutions with padding 15 (a 28×28 map, 100 352-wide " +
        "flatten, ≈ 110 M parameters; `models/conv/nets.py`)",
      ours: vae.map((k) => `${k} ${cfg.cvae[k as keyof CmgConfig["cvae"]]}`).join(", ") +
        (cfg.cvae.encoderPadding === 1 ? " (padding 1: the encoder ends at 7×7, flatten 6 272, for a CPU)" : ""),
    });
  }
  const ft = differs(cfg.finetune, CMG_FINETUNE, ["epochs", "batchSize", "genPerStep", "lr", "mu", "evalEvery"]);
  if (ft.length) {
    out.push({
      id: "stage 2",
      paper: "15 epochs of the head, Adam 1e-4, 128 ID + 128 generated images per step, μ = 0.1, evaluation every " +
        "20 steps (`training/fine_tune.py`)",
      ours: ft.map((k) => `${k} ${cfg.finetune[k as keyof CmgConfig["finetune"]]}`).join(", "),
    });
  }
  const widths = [...new Set(cfg.settings.map((s) => s.width))].filter((w) => w !== 1);
  if (widths.length) {
    out.push({
      id: "classifier width",
      paper: "the 9-conv CNN at widths 64/128 and a 512-unit head (`models/conv/cnn.py`, `models/fc/nets.py`)",
      ours: `width ×${widths.join(", ×")} (channels and the head's hidden layer)`,
    });
  }
  const sigmas = cfg.settings.map((s) => (s.idDataset === "mnist" ? 3 : 5));
  if (sigmas.some((s) => s !== cfg.sigma)) {
    out.push({ id: "σ", paper: "σ = 3 (MNIST), 5 (CIFAR-10)", ours: `σ = ${cfg.sigma}` });
  }
  if (cfg.trainLimit !== null || cfg.nTest !== null) {
    out.push({
      id: "sizes",
      paper: "the whole training split of the seen classes; the whole test split",
      ours: [
        cfg.trainLimit !== null ? `a seeded subset of ${cfg.trainLimit} training images before the class split` : "",
        cfg.nTest !== null ? `${cfg.nTest} test images before the class split` : "",
      ].filter(Boolean).join("; "),
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
      paper: "seed 123, one run per partition",
      ours: `${cfg.seeds.length} seed(s) per partition, every network seeded from the run seed`,
    },
  );
  return out;
}
