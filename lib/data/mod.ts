/**
 * The data pipeline: a saveable seeded RNG, batch index streams (shuffled, class-balanced, paired ID+OOD),
 * the papers' augmentations on uint8 images, and per-batch conversion to normalized float tensors.
 * @module
 */
export { Rng, rngFrom, type RngState, type Seed } from "./rng.ts";
export { MT19937, numpyLegacyPermutation } from "./mt19937.ts";
export {
  classBalancedBatches,
  type ClassBalancedOptions,
  indexBatches,
  type IndexBatchOptions,
  type PairedBatch,
  pairedBatches,
  type PairedBatchOptions,
} from "./batches.ts";
export {
  applyStep,
  type AugmentationName,
  AUGMENTATIONS,
  augmentBatch,
  augmentImage,
  type AugmentStep,
  resizedCropParams,
} from "./augment.ts";
export { crop, flipHorizontal, invert, luma, pad, type RawImage, rawImage, rotate, toChannels } from "./image.ts";
export {
  centerCrop,
  fitImage,
  type FitMode,
  resize,
  type ResizeFilter,
  type ResizeOptions,
  resizeShorterSide,
} from "./resize.ts";
export {
  batchToTensor,
  gatherBatch,
  normalizeBatch,
  type TensorBatch,
  tensorBatches,
  type TensorBatchOptions,
} from "./tensors.ts";
