/**
 * The authors' released weights of the four papers that publish them, and how to install and read them.
 *
 * | paper | files | download |
 * |---|---|---|
 * | `cider` | ResNet-18 (CIFAR-10), ResNet-34 (CIFAR-100), `checkpoint_500.pth.tar`; ImageNet-100 ResNet-34 (listed only) | Google Drive: by hand |
 * | `eloc` | DenseNet-BC and WRN-28-10 on CIFAR-10/100, 5 fold models per archive | Dropbox: direct |
 * | `vmdls` | PyTorch Lightning `.ckpt` encoders and auto-encoders | Google Drive: by hand |
 * | `unleashing_mask` | DenseNet-101 (`.state`) committed to the authors' repository | GitHub: direct, git blob id |
 *
 * `deno task data checkpoints <paper> [<id>…] [--import FILE]` lists, fetches and imports them
 * (tools/data_checkpoints.ts); a notebook run with `OOD_WEIGHTS=released` evaluates them.
 * @module
 */
import { CIDER_RELEASED } from "./cider.ts";
import { ELOC_RELEASED } from "./eloc.ts";
import { UNLEASHING_MASK_RELEASED } from "./unleashing_mask.ts";
import { VMDLS_RELEASED } from "./vmdls.ts";
import type { ReleasedFile, ReleasedPaper } from "./types.ts";

export type { ReleasedChecksum, ReleasedFile, ReleasedPaper } from "./types.ts";
export {
  missingReleasedMessage,
  releasedFetchCommand,
  releasedFilePath,
  releasedPaperDir,
  releasedPresent,
  releasedRoot,
} from "./paths.ts";
export { checkReleasedDigests, installReleased, releasedDigests } from "./install.ts";
export type { InstallReleasedOptions, InstallReleasedReport } from "./install.ts";

/** Every released file, by paper. */
export const RELEASED: Readonly<Record<ReleasedPaper, readonly ReleasedFile[]>> = {
  cider: CIDER_RELEASED,
  eloc: ELOC_RELEASED,
  vmdls: VMDLS_RELEASED,
  unleashing_mask: UNLEASHING_MASK_RELEASED,
};

/** True for a paper that has released files. */
export function isReleasedPaper(name: string): name is ReleasedPaper {
  return Object.hasOwn(RELEASED, name);
}

/**
 * One released file by id.
 * @throws Error listing the paper's ids when `id` is not one.
 */
export function releasedFile(paper: ReleasedPaper, id: string): ReleasedFile {
  const e = RELEASED[paper].find((f) => f.id === id);
  if (!e) {
    throw new Error(`${paper} has no released file "${id}". Its files: ${RELEASED[paper].map((f) => f.id).join(", ")}`);
  }
  return e;
}
