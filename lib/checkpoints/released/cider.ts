/**
 * CIDER's released weights (Ming et al., ICLR 2023; deeplearning-wisc/cider at dce8ad3) and the name maps from
 * their `state_dict` keys to this project's networks.
 *
 * What the files hold, as the authors' code writes and reads them:
 * - `train_cider.py` `save_checkpoint` (lines 187–202, 262–265) saves `torch.save` of a dict with `epoch`,
 *   `state_dict` (the model's), `opt_state_dict` (SGD), `dis_state_dict` (the dispersion loss: its `prototypes`
 *   buffer plus a second copy of every model key under `model.`, because `DisLoss` keeps the model as a submodule,
 *   `utils/losses.py` 248–256) and `uni_state_dict` (empty) as `checkpoint_<epoch>.pth.tar`.
 * - `utils/util.py` `set_model` (194–206) builds `SupCEHeadResNet` and moves it to the GPU without DataParallel,
 *   so the keys have no `module.` prefix.
 * - `models/resnet.py`: `SupCEHeadResNet` (194–225) registers `encoder` (the CIFAR `ResNet`, 69–108: `conv1`,
 *   `bn1`, `layer1`…`layer4` of `BasicBlock`s, 6–22: `conv1`, `bn1`, `conv2`, `bn2`, and a `shortcut` Sequential
 *   of a 1×1 conv (`shortcut.0`) and a BN (`shortcut.1`) where stride or width changes, i.e. in the first block of
 *   stages 2–4), then `fc` (Linear(512, n_cls), never trained), then `head`, for `--head mlp` a Sequential of
 *   Linear (`head.0`), ReLU, Linear (`head.2`). The ImageNet-100 model's encoder is instead a torchvision
 *   ResNet-34 without its `fc` wrapped in a Sequential (keys `encoder.0.…`, `encoder.4.0.downsample.0.…`).
 * - `eval_ood.py` `set_up` (143–151) reads `['state_dict']` and loads it strictly; KNN uses
 *   `intermediate_forward` (resnet.py 227–232): the L2-normalised encoder output.
 *
 * No file is committed to the repository and the README publishes no size or checksum, so none is recorded.
 * @module
 */
import type { ModuleSpec, StateDictMap } from "../load_state_dict.ts";
import type { ReleasedFile } from "./types.ts";

const README = "deeplearning-wisc/cider README.md at dce8ad3";

/** The files CIDER's README links (Google Drive folders: a person downloads them in a browser). */
export const CIDER_RELEASED: readonly ReleasedFile[] = [
  {
    paper: "cider",
    id: "cider_cifar10_resnet18",
    description: "CIDER CIFAR-10 ResNet-18, MLP head 128-d, epoch 500: checkpoint_500.pth.tar in the folder ckpt_c10",
    url: "https://drive.google.com/drive/folders/1rkXQYHcaITZCj55OLNXqy_b-yjktONrn?usp=share_link",
    download: "manual",
    filename: "ckpt_c10-checkpoint_500.pth.tar",
    format: "file",
    source: `${README} line 101 ("Our checkpoints can be downloaded here … CIFAR-10"), layout lines 104–111; ` +
      "evaluated by scripts/eval_ckpt_cifar10.sh (resnet18, --head mlp, --score knn, --K 100)",
  },
  {
    paper: "cider",
    id: "cider_cifar100_resnet34",
    description: "CIDER CIFAR-100 ResNet-34, MLP head 128-d, epoch 500: checkpoint_500.pth.tar in the folder ckpt_c100",
    url: "https://drive.google.com/drive/folders/1SjW2kvhDQ6qcsIo5TR7eLMrcL3r6Y3QN?usp=share_link",
    download: "manual",
    filename: "ckpt_c100-checkpoint_500.pth.tar",
    format: "file",
    source: `${README} line 101 ("Our checkpoints can be downloaded here for CIFAR-100"), layout lines 104–111; ` +
      "evaluated by scripts/eval_ckpt_cifar100.sh (resnet34, --head mlp, --score knn, --K 300)",
  },
  {
    paper: "cider",
    id: "cider_imagenet100_resnet34",
    description: "CIDER ImageNet-100 fine-tuned torchvision ResNet-34 (not loadable here: no torchvision ResNet-34 " +
      "in lib/backbones and no ImageNet-100 data layer)",
    url: "https://drive.google.com/drive/folders/1IJXpHLllI9pj39xn25LSNRaVHZ9fFz6-?usp=sharing",
    download: "manual",
    filename: "imagenet100-resnet34.pth.tar",
    format: "file",
    source: `${README} line 31 (Aug 12 update: "The checkpoint is available here"); the folder's file name is not ` +
      "given in the README",
  },
];

/** Blocks per stage of the CIFAR ResNets CIDER trains (`models/resnet.py` `resnet18`, `resnet34`). */
export const CIDER_RESNET_BLOCKS = {
  resnet18: [2, 2, 2, 2],
  resnet34: [3, 4, 6, 3],
} as const satisfies Record<string, readonly number[]>;

/** The CIFAR networks of the released CIDER files: what each one is and how the authors evaluate it. */
export interface CiderReleasedNetwork {
  /** Registry id of the file in {@link CIDER_RELEASED}. */
  readonly id: string;
  /** ID dataset (this project's registry name). */
  readonly idDataset: "cifar10" | "cifar100";
  /** Backbone (registry name), at width 1. */
  readonly backbone: keyof typeof CIDER_RESNET_BLOCKS;
  /** `args.n_cls`: `fc`'s outputs. */
  readonly numClasses: number;
  /** `--feat_dim` of the projection head (train_cider.py default 128; the scripts keep it). */
  readonly featDim: number;
  /** K of the KNN score in the authors' evaluation script. */
  readonly k: number;
  /** The authors' evaluation script, for labels. */
  readonly script: string;
}

/** The two CIFAR files this project can load (the ImageNet-100 one needs a torchvision ResNet-34). */
export const CIDER_RELEASED_NETWORKS: Readonly<Record<string, CiderReleasedNetwork>> = {
  cider_cifar10_resnet18: {
    id: "cider_cifar10_resnet18",
    idDataset: "cifar10",
    backbone: "resnet18",
    numClasses: 10,
    featDim: 128,
    k: 100,
    script: "scripts/eval_ckpt_cifar10.sh",
  },
  cider_cifar100_resnet34: {
    id: "cider_cifar100_resnet34",
    idDataset: "cifar100",
    backbone: "resnet34",
    numClasses: 100,
    featDim: 128,
    k: 300,
    script: "scripts/eval_ckpt_cifar100.sh",
  },
};

/** The ids of {@link CIDER_RELEASED_NETWORKS}. */
export type CiderReleasedId = "cider_cifar10_resnet18" | "cider_cifar100_resnet34";

/** The ids a notebook may ask for. */
export const CIDER_RELEASED_IDS: readonly CiderReleasedId[] = ["cider_cifar10_resnet18", "cider_cifar100_resnet34"];

/** The registry entry of a released file. */
export function ciderReleasedFile(id: string): ReleasedFile {
  const entry = CIDER_RELEASED.find((e) => e.id === id);
  if (!entry) throw new Error(`Unknown CIDER released file "${id}". Valid ids: ${CIDER_RELEASED.map((e) => e.id)}.`);
  return entry;
}

/** The encoder modules of a CIFAR ResNet in the order TF.js creates their layers (= PyTorch's registration). */
export function ciderEncoderModules(blocks: readonly number[], prefix = "encoder."): ModuleSpec[] {
  const modules: ModuleSpec[] = [{ name: `${prefix}conv1`, kind: "conv" }, { name: `${prefix}bn1`, kind: "bn" }];
  blocks.forEach((n, stage) => {
    for (let b = 0; b < n; b++) {
      const at = `${prefix}layer${stage + 1}.${b}`;
      modules.push(
        { name: `${at}.conv1`, kind: "conv" },
        { name: `${at}.bn1`, kind: "bn" },
        { name: `${at}.conv2`, kind: "conv" },
        { name: `${at}.bn2`, kind: "bn" },
      );
      // The stem and stage 1 have the same width and stride 1; every later stage opens with stride 2, so exactly
      // the first block of stages 2–4 has the projection shortcut (in PyTorch and in lib/backbones/resnet.ts).
      if (b === 0 && stage > 0) {
        modules.push({ name: `${at}.shortcut.0`, kind: "conv" }, { name: `${at}.shortcut.1`, kind: "bn" });
      }
    }
  });
  return modules;
}

/**
 * The name map of a CIDER `SupCEHeadResNet` (CIFAR ResNet encoder, `fc`, MLP `head`) onto a TF.js model built by
 * `ciderNet(createBackbone("resnet18" | "resnet34", …), …)`: pass `[net.model]` to `loadStateDict`. With
 * `head: false` the map fits the backbone alone (`[backbone.model]`) and the file's `head.*` keys are ignored.
 * Any width: the map depends only on the blocks per stage, so the narrow test fixtures use it unchanged.
 *
 * @param blocks Blocks per stage, e.g. {@link CIDER_RESNET_BLOCKS}`.resnet18`.
 * @param opts `label` for messages; `head` (default true) maps the projection head.
 */
export function ciderStateDictMap(
  blocks: readonly number[],
  opts: { label?: string; head?: boolean } = {},
): StateDictMap {
  const head = opts.head ?? true;
  const depth = 2 + 2 * blocks.reduce((a, b) => a + b, 0);
  return {
    label: opts.label ?? `CIDER ResNet-${depth} (SupCEHeadResNet${head ? ", MLP head" : " encoder + fc"})`,
    modules: [
      ...ciderEncoderModules(blocks),
      { name: "fc", kind: "dense" },
      ...(head ? [{ name: "head.0", kind: "dense" } as const, { name: "head.2", kind: "dense" } as const] : []),
    ],
    // The authors do not wrap the model in DataParallel; a `module.` prefix (a user's own multi-GPU run of their
    // script) is removed all the same, since it changes nothing else.
    stripPrefixes: ["module."],
    ...(head ? {} : { ignore: (key: string) => key.startsWith("head.") }),
  };
}
