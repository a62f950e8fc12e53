/**
 * Unleashing Mask's released weights (Zhu et al., ICML 2023; `ZFancy/Unleashing-Mask` @1640ce6): four
 * DenseNet-BC-100 classifiers committed to the repository under `runs/`, the "best" (middle-stage, selected on test
 * accuracy) and the "last" (final-stage) model of one CE training run on CIFAR-10 and on CIFAR-100, and the name
 * map from their `state_dict` keys to our `densenet_bc_100`.
 *
 * What the authors' code does, and the map encodes (read at 1640ce6):
 * - `main.py:133-205` saves through `utils/net_utils.py:52-58` (`torch.save(state, filename)`, files named
 *   `*.state`; the best one is copied with `shutil`) a dict `{epoch, arch, state_dict, best_acc1, best_acc5,
 *   best_train_acc1, best_train_acc5, optimizer, curr_acc1, curr_acc5}`; `state_dict` is that of the model after
 *   `set_gpu` (`net_utils.py:229-248`), i.e. wrapped in `torch.nn.DataParallel`, so every key starts `module.`.
 *   `pretrained()` (`net_utils.py:273-303`) reads `["state_dict"]` and removes `module.`.
 * - The network is `DenseNet3` (`models/densenet.py:80-115`, `DenseNet()` at :222 with `args.py` defaults: depth
 *   100, growth 12, reduction 0.5, bottleneck), registering `conv1`, `block{1,2,3}.layer.<i>.{bn1,conv1,bn2,conv2}`
 *   (`BottleneckBlock`, :32-41), `trans{1,2}.{bn1,conv1}` (:52-58), `bn1`, `fc`. Convolutions have no bias
 *   (`utils/builder.py:19-41`; the 1×1 conv's `padding=1` argument is dropped by `Builder.conv`), BatchNorm is
 *   `NonAffineBatchNorm` (`utils/bn_type.py`: `affine=False`, so only `running_mean`, `running_var`,
 *   `num_batches_tracked`), the head is `nn.Linear` (`DenseLinear`). The input normalisation
 *   ((125.3, 123.0, 113.9)/255, (63.0, 62.1, 66.7)/255, `main.py:67`) is applied inside `forward` from a
 *   `transforms.Normalize` attribute, which is not a module and not in the `state_dict`; ours is the data
 *   pipeline's `cifarOdin`.
 * - The UM/UMAP configs (`configs/smallscale/*.yaml`) use `DenseConv`/`DenseLinear`; UMAP and `estimate_loss.py`
 *   use `SubnetConv`/`SubnetLinear` (`utils/conv_type.py:32-49`, `utils/linear_type.py:14-33`), which add a
 *   `scores` parameter per layer. Such keys are not part of a plain DenseNet: the authors' `pretrained()` drops
 *   every key the model lacks (`net_utils.py:293-301`); the map ignores `scores` only when asked
 *   (`ignoreSubnetScores`), and refuses them otherwise.
 *
 * The README (line 92) calls the files `runs/pretrained_models/densenet_<cifar10/cifar100>_<best/last>.pth` and the
 * configs point at `runs/pretrained_models/..._last.state`; neither path exists — the files are `runs/*.state`
 * (papers.md §5f). They are ordinary git blobs (the repository has no `.gitattributes`, so no Git LFS pointers),
 * fetched from raw.githubusercontent.com at the pinned commit and verified by the blob ids of its tree. The
 * authors publish no size or SHA-256.
 * @module
 */
import type { ModuleSpec, StateDictMap } from "../load_state_dict.ts";
import type { ReleasedFile } from "./types.ts";

/** The commit of `ZFancy/Unleashing-Mask` whose tree lists the released files (HEAD, "Update README.md"). */
export const UM_RELEASE_COMMIT = "1640ce65e2967926aa54d872ab60f5f63116b4bb";

const RAW = `https://raw.githubusercontent.com/ZFancy/Unleashing-Mask/${UM_RELEASE_COMMIT}/runs`;

/** One committed checkpoint: id `densenet_<set>_<stage>`, blob id from `git ls-tree 1640ce6 runs/`. */
function entry(set: "cifar10" | "cifar100", stage: "best" | "last", blob: string): ReleasedFile {
  const name = `densenet_${set}_${stage}`;
  const label = set === "cifar10" ? "CIFAR-10" : "CIFAR-100";
  const what = stage === "best"
    ? "the best (middle-stage) model of the run, selected on test accuracy"
    : "the last (final-stage) model of the run";
  return {
    paper: "unleashing_mask",
    id: name,
    description:
      `DenseNet-BC-100 ("DenseNet-101", NonAffineBatchNorm, dropout 0.3) trained with CE on ${label}: ${what}`,
    url: `${RAW}/${name}.state`,
    download: "direct",
    filename: `${name}.state`,
    format: "file",
    checksum: {
      gitBlobSha1: blob,
      source: `git ls-tree ${UM_RELEASE_COMMIT.slice(0, 7)} runs/${name}.state (ZFancy/Unleashing-Mask)`,
    },
    source: `README.md:92 at ${UM_RELEASE_COMMIT.slice(0, 7)} ("we provide the best (middle-stage) model and the ` +
      `last (final-stage) model"; the README's runs/pretrained_models/${name}.pth does not exist, the file is ` +
      `runs/${name}.state); saved by main.py:189-205 via utils/net_utils.py:52-58` +
      (stage === "last" && set === "cifar10" ? "; UM's CIFAR-10 configs start from it" : "") +
      (stage === "best" && set === "cifar100" ? "; UM's CIFAR-100 configs start from it" : ""),
  };
}

/** Unleashing Mask's released checkpoints: `runs/densenet_cifar{10,100}_{best,last}.state` at 1640ce6. */
export const UNLEASHING_MASK_RELEASED: readonly ReleasedFile[] = [
  entry("cifar10", "best", "0106f267ab2c2fe15463a92eda78692e28e2a248"),
  entry("cifar10", "last", "036afa94bc43e1f18a81c00fffddb0609b6894ff"),
  entry("cifar100", "best", "a2f76bb9f0005f8e33c70d9642a9eebf4088c6e3"),
  entry("cifar100", "last", "707b4f4ef7331f8d590dbddc463b6f7c8e656d51"),
];

/** The ID dataset and the class count of a released file (from its id). */
export function umReleasedDataset(id: string): { idDataset: "cifar10" | "cifar100"; numClasses: number } {
  if (/^densenet_cifar100_/.test(id)) return { idDataset: "cifar100", numClasses: 100 };
  if (/^densenet_cifar10_/.test(id)) return { idDataset: "cifar10", numClasses: 10 };
  throw new Error(
    `"${id}" is not an Unleashing Mask released file. Its files: ${
      UNLEASHING_MASK_RELEASED.map((f) => f.id).join(", ")
    }`,
  );
}

/** The architecture of the authors' `DenseNet3` as `args.py` sets it (`--layers`, `--no-bottleneck`). */
export interface UmDenseNetArch {
  /** `--layers` (default 100). */
  depth: number;
  /** `bottleneck` (default true). */
  bottleneck: boolean;
  /**
   * Ignore the `scores` tensors of `SubnetConv`/`SubnetLinear` layers (a checkpoint of a UMAP or estimate run),
   * as the authors' `pretrained()` does when it loads one into a dense model. Default false: refused as unexpected.
   */
  ignoreSubnetScores?: boolean;
}

/**
 * The name map of the authors' `DenseNet3` (`models/densenet.py`) saved by `main.py` onto our `densenet_bc_100`
 * built with `affineBatchNorm: false` and the same depth/bottleneck: modules in registration order (= TF.js layer
 * creation order), `module.` (DataParallel) stripped.
 *
 * @param arch Depth and bottleneck (narrow test networks use the same code).
 * @param label For messages.
 * @example The released CIFAR-10 model
 * ```ts
 * const map = umDenseNetMap({ depth: 100, bottleneck: true });
 * ```
 */
export function umDenseNetMap(
  arch: UmDenseNetArch,
  label = `Unleashing Mask DenseNet-BC-${arch.depth} (DenseNet3, NonAffineBatchNorm)`,
): StateDictMap {
  const step = arch.bottleneck ? 6 : 3;
  if (!Number.isInteger(arch.depth) || arch.depth < 4 + step || (arch.depth - 4) % step !== 0) {
    throw new RangeError(`DenseNet3 depth must be 4 + ${step}·n, got ${arch.depth}`);
  }
  const n = (arch.depth - 4) / step;
  const modules: ModuleSpec[] = [{ name: "conv1", kind: "conv" }];
  for (let block = 1; block <= 3; block++) {
    for (let i = 0; i < n; i++) {
      const p = `block${block}.layer.${i}`;
      modules.push({ name: `${p}.bn1`, kind: "bn" }, { name: `${p}.conv1`, kind: "conv" });
      if (arch.bottleneck) modules.push({ name: `${p}.bn2`, kind: "bn" }, { name: `${p}.conv2`, kind: "conv" });
    }
    if (block < 3) {
      modules.push({ name: `trans${block}.bn1`, kind: "bn" }, { name: `trans${block}.conv1`, kind: "conv" });
    }
  }
  modules.push({ name: "bn1", kind: "bn" }, { name: "fc", kind: "dense" });
  return {
    label,
    modules,
    stripPrefixes: ["module."],
    ...(arch.ignoreSubnetScores ? { ignore: (key: string) => key.endsWith(".scores") } : {}),
  };
}
