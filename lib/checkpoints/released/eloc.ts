/**
 * ELOC's released weights: the four archives of the re-implementation YU1ut/Ensemble-of-Leave-out-Classifiers
 * (README at d80b29c, "Pre-trained Models", lines 35–38), each holding the five leave-out classifiers of one
 * network and ID dataset, and the name maps from its `state_dict` keys to the registry backbones.
 *
 * What the archives hold is not published; the member paths are inferred from the code that writes and reads them:
 * - `train_all.py:11-24` trains into `checkpoints/{cifar10|cifar100}_fold_{k}_{dense|wide}_checkpoint`;
 * - `eloc_solver.py:193-205` saves `{epoch, state_dict, best_prec1, opt}` to `checkpoint.pth.tar` every epoch and
 *   copies it to `model_best.pth.tar` when the validation AUROC improves;
 * - `cal.py:49-56` loads `./checkpoints/{in_dataset}_fold_{fold}_{wide|dense}_checkpoint/model_best.pth.tar` and its
 *   `state_dict` after the README's `tar -xvzf` inside `checkpoints/` (README lines 43–48).
 * The README has linked them since the first commit (2019-04-07, "PyTorch 0.4.1"), so (inferred) they are in the
 * legacy `torch.save` format, with CUDA storages (trained with `.cuda()`), and `best_prec1` is a NumPy float64.
 * @module
 */
import type { ModuleSpec, StateDictMap } from "../load_state_dict.ts";
import type { ReleasedFile } from "./types.ts";

/** The ID datasets, networks and archive ids of the released ELOC ensembles. */
export const ELOC_RELEASED_FAMILIES = [
  { id: "eloc_cifar10_dense", idDataset: "cifar10", backbone: "densenet_bc_100", tag: "dense" },
  { id: "eloc_cifar100_dense", idDataset: "cifar100", backbone: "densenet_bc_100", tag: "dense" },
  { id: "eloc_cifar10_wide", idDataset: "cifar10", backbone: "wrn_28_10", tag: "wide" },
  { id: "eloc_cifar100_wide", idDataset: "cifar100", backbone: "wrn_28_10", tag: "wide" },
] as const;

/** One released ELOC ensemble (an archive of five fold checkpoints). */
export type ElocReleasedFamily = typeof ELOC_RELEASED_FAMILIES[number];

/** The id of a released ELOC archive. */
export type ElocReleasedId = ElocReleasedFamily["id"];

/** Where the archive's member names come from: inferred, not published. */
const MEMBERS_SOURCE = "member paths inferred (not published) from train_all.py:11-24, eloc_solver.py:201-205 " +
  "(model_best.pth.tar) and cal.py:49-54 (the paths test time loads), YU1ut/Ensemble-of-Leave-out-Classifiers@d80b29c";

/** The five fold checkpoints an archive extracts to (`cal.py`'s paths below `checkpoints/`). */
export function elocFoldMembers(idDataset: "cifar10" | "cifar100", tag: "dense" | "wide"): string[] {
  return [1, 2, 3, 4, 5].map((k) => `${idDataset}_fold_${k}_${tag}_checkpoint/model_best.pth.tar`);
}

const DESCRIPTION: Readonly<Record<ElocReleasedId, string>> = {
  eloc_cifar10_dense: "DenseNet-BC-100 (k = 12) leave-out classifiers on CIFAR-10, 5 folds × 8 classes",
  eloc_cifar100_dense: "DenseNet-BC-100 (k = 12) leave-out classifiers on CIFAR-100, 5 folds × 80 classes",
  eloc_cifar10_wide: "WRN-28-10 (dropout 0.3) leave-out classifiers on CIFAR-10, 5 folds × 8 classes",
  eloc_cifar100_wide: "WRN-28-10 (dropout 0.3) leave-out classifiers on CIFAR-100, 5 folds × 80 classes",
};

/** The README's Dropbox links (lines 35–38), in `ELOC_RELEASED_FAMILIES` order. */
const README_URLS: Readonly<Record<ElocReleasedId, { url: string; line: number }>> = {
  eloc_cifar10_dense: { url: "https://www.dropbox.com/s/mo2xay9rpfk8emu/cifar10_dense.tar.gz", line: 35 },
  eloc_cifar100_dense: { url: "https://www.dropbox.com/s/oo8fyxlosqkiov6/cifar100_dense.tar.gz", line: 36 },
  eloc_cifar10_wide: { url: "https://www.dropbox.com/s/6set3ilyto2adol/cifar10_wide.tar.gz", line: 37 },
  eloc_cifar100_wide: { url: "https://www.dropbox.com/s/ig5uftywotlt9i5/cifar100_wide.tar.gz", line: 38 },
};

/**
 * The four released archives. Dropbox serves the file itself with `?dl=1` (the README's bare link is a preview page),
 * so they download directly; no size or checksum is published, so an import asks for trust.
 */
export const ELOC_RELEASED: readonly ReleasedFile[] = ELOC_RELEASED_FAMILIES.map((f) => {
  const { url, line } = README_URLS[f.id];
  const filename = url.slice(url.lastIndexOf("/") + 1);
  return {
    paper: "eloc",
    id: f.id,
    description: DESCRIPTION[f.id],
    url: `${url}?dl=1`,
    download: "direct",
    filename,
    format: "tar.gz",
    members: elocFoldMembers(f.idDataset, f.tag),
    source: `README.md line ${line} (link ${url}), YU1ut/Ensemble-of-Leave-out-Classifiers@d80b29c, linked since ` +
      `67d9650 (2019-04-07); ${MEMBERS_SOURCE}`,
  } satisfies ReleasedFile;
});

/** The registry entry of a released archive; throws listing the ids for an unknown one. */
export function elocReleasedEntry(id: string): ReleasedFile {
  const e = ELOC_RELEASED.find((r) => r.id === id);
  if (!e) {
    throw new Error(`Unknown ELOC released file "${id}". Valid ids: ${ELOC_RELEASED.map((r) => r.id).join(", ")}.`);
  }
  return e;
}

/** The family of a released archive id; throws listing the ids for an unknown one. */
export function elocReleasedFamily(id: string): ElocReleasedFamily {
  const f = ELOC_RELEASED_FAMILIES.find((r) => r.id === id);
  if (!f) {
    throw new Error(
      `Unknown ELOC released file "${id}". Valid ids: ${ELOC_RELEASED_FAMILIES.map((r) => r.id).join(", ")}.`,
    );
  }
  return f;
}

/** Architecture of the authors' DenseNet (`models/densenet.py`, `DenseNet(num_classes, depth, growth_rate, …)`). */
export interface ElocDenseNetArch {
  /** Total depth (the released: 100); bottleneck layers, so (depth − 4)/6 layers per block. */
  depth: number;
}

/** Architecture of the authors' WideResNet (`models/wideresnet.py`, `WideResNet(num_classes, depth, widen_factor)`). */
export interface ElocWideResNetArch {
  /** Total depth (the released: 28); (depth − 4)/6 blocks per group. */
  depth: number;
  /** Widening factor (the released: 10); group widths ⌊16k⌋, ⌊32k⌋, ⌊64k⌋ after a 16-channel stem. */
  widenFactor: number;
}

/**
 * The name map of the authors' DenseNet onto `densenet_bc_100` (`models/densenet.py` at d80b29c): the stem `conv1`;
 * per dense block `blockB.layer.i` (its `DenseBlock` keeps an `nn.Sequential` named `layer`, lines 57-67) with a
 * bottleneck layer's `bn1, conv1, bn2, conv2` (lines 22-32); transitions `trans1`, `trans2` with `bn1, conv1`
 * (lines 43-49); the final `bn1` and `fc` (lines 98-101). The `relu` modules hold no parameters. The model is saved
 * bare (`model.state_dict()`, no DataParallel, eloc_solver.py:195), so no prefix is stripped; BN
 * `num_batches_tracked` is ignored by the loader.
 * @param arch The depth (100 for the released weights; the tests' fixtures use a narrow copy).
 * @param label What the map is for, in messages.
 */
export function elocDenseNetMap(arch: ElocDenseNetArch, label = "ELOC DenseNet-BC"): StateDictMap {
  const n = (arch.depth - 4) / 6;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`ELOC DenseNet depth must be 4 + 6·n, got ${arch.depth}`);
  const modules: ModuleSpec[] = [{ name: "conv1", kind: "conv" }];
  for (let b = 1; b <= 3; b++) {
    for (let i = 0; i < n; i++) {
      const at = `block${b}.layer.${i}`;
      modules.push(
        { name: `${at}.bn1`, kind: "bn" },
        { name: `${at}.conv1`, kind: "conv" },
        { name: `${at}.bn2`, kind: "bn" },
        { name: `${at}.conv2`, kind: "conv" },
      );
    }
    if (b < 3) modules.push({ name: `trans${b}.bn1`, kind: "bn" }, { name: `trans${b}.conv1`, kind: "conv" });
  }
  modules.push({ name: "bn1", kind: "bn" }, { name: "fc", kind: "dense" });
  return { label: `${label} (depth ${arch.depth})`, modules };
}

/**
 * The name map of the authors' WideResNet onto `wrn_28_10` (`models/wideresnet.py` at d80b29c): the stem `conv1`;
 * per group `blockG.layer.i` (`NetworkBlock`'s `nn.Sequential` named `layer`, lines 34-42) with `bn1, conv1, bn2,
 * conv2` and, only in a block that changes the width, `convShortcut` registered last (lines 11-22: otherwise the
 * attribute is `None` and holds no key); the final `bn1` and `fc` (lines 63-66). Saved bare, no prefix.
 * @param arch Depth and widening factor (28 and 10 for the released weights).
 * @param label What the map is for, in messages.
 */
export function elocWideResNetMap(arch: ElocWideResNetArch, label = "ELOC WRN"): StateDictMap {
  const n = (arch.depth - 4) / 6;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`ELOC WRN depth must be 4 + 6·n, got ${arch.depth}`);
  const widths = [16, 16, 32, 64].map((c, i) => (i === 0 ? c : Math.floor(c * arch.widenFactor)));
  const modules: ModuleSpec[] = [{ name: "conv1", kind: "conv" }];
  for (let g = 1; g <= 3; g++) {
    for (let i = 0; i < n; i++) {
      const at = `block${g}.layer.${i}`;
      modules.push(
        { name: `${at}.bn1`, kind: "bn" },
        { name: `${at}.conv1`, kind: "conv" },
        { name: `${at}.bn2`, kind: "bn" },
        { name: `${at}.conv2`, kind: "conv" },
      );
      if (i === 0 && widths[g - 1] !== widths[g]) modules.push({ name: `${at}.convShortcut`, kind: "conv" });
    }
  }
  modules.push({ name: "bn1", kind: "bn" }, { name: "fc", kind: "dense" });
  return { label: `${label}-${arch.depth}-${arch.widenFactor}`, modules };
}

/** The name map of a released family at its published size (DenseNet-BC-100, WRN-28-10). */
export function elocReleasedMap(family: ElocReleasedFamily): StateDictMap {
  const what = `${family.idDataset} fold checkpoint`;
  return family.tag === "dense"
    ? elocDenseNetMap({ depth: 100 }, `ELOC DenseNet-BC ${what}`)
    : elocWideResNetMap({ depth: 28, widenFactor: 10 }, `ELOC WRN ${what}`);
}
