/**
 * Download manifest of the datasets that are not embedded: where each comes from, how to verify it, its
 * license, and what the loader expects on disk under `data/<name>/`.
 *
 * Checksums are only written where they were read from a published source (named in `checksumSource`):
 * TensorFlow Datasets' `url_checksums/*.txt` files (size + SHA-256 of the very same URLs) and, for the ODIN
 * Dropbox archives, the MD5s pinned by pytorch-ood. Where no SHA-256 is known the field is `null` on purpose
 * (never invented). The downloader accepts a file only if every known checksum matches and at least one is
 * known; otherwise it refuses unless run with `--trust-unverified`, and prints the computed SHA-256 so it can be
 * pinned here.
 * @module
 */
import type { ArchiveFormat } from "./archive.ts";

/** One file to download. */
export interface RemoteFile {
  /** Official URL. */
  url: string;
  /** Name it is saved under in `data/.downloads/`. */
  filename: string;
  /** Container format; `"file"` = used as is (moved into the dataset folder). */
  format: ArchiveFormat | "file";
  /** Exact size in bytes, or null when no published value is known. */
  size: number | null;
  /** Lower-case hex SHA-256, or null when no published value is known. */
  sha256: string | null;
  /** Lower-case hex MD5 from a published source, when one exists. */
  md5?: string;
  /** Where the size/checksums were read. */
  checksumSource: string;
}

/** Keep only a seeded random subset of an archive's image files (e.g. 10 000 of Places365's 328 500). */
export interface SubsetRule {
  /** Images kept. */
  count: number;
  /** Seed of the permutation of the sorted member paths (`Rng(seed).permutation`). */
  seed: number;
}

/** Everything needed to fetch, verify and install one dataset. */
export interface ManifestEntry {
  /** Files to download (all are installed into the dataset folder). */
  files: readonly RemoteFile[];
  /** The dataset's official page. */
  homepage: string;
  /** License / terms of use, in short. */
  license: string;
  /**
   * What the loader reads under `data/<name>/`. For image-folder sets the inner folder names are documentation
   * only: the loader reads every PNG/JPEG below `data/<name>/`.
   */
  layout: string;
  /** Number of images expected after installation (a mismatch is reported as a warning). */
  expectedImages?: number;
  /** Keep only a seeded subset of the archive's images. */
  subset?: SubsetRule;
  /**
   * For a set that cannot be fetched by a program (a Google Drive link with no published file format or checksum):
   * what a person does to install it. Such an entry has no `files`; `deno task data <name>` prints this text.
   */
  manual?: string;
}

const TFDS = "tensorflow/datasets url_checksums";
const ODIN_LICENSE =
  "Released with ODIN (Liang et al., ICLR 2018; facebookresearch/odin, BSD-style license for the code). " +
  "Images derive from Tiny ImageNet / LSUN / iSUN: research use only, subject to the original datasets' terms.";

/**
 * One of CSI's "fixed-resize" OOD sets (Tack et al., NeurIPS 2020; alinlab/CSI@60742b6 README l. 33–34, 155–164),
 * which CMG's Setting 2 uses as LSUN-FIX / ImageNet-FIX: 10 000 32×32 PNGs made by Resize(256) → CenterCrop(256) →
 * Resize(32). Published only as Google Drive links, without a format, size or checksum: installed by hand.
 */
function csiFixSet(p: { name: string; label: string; url: string; source: string; script: string }): ManifestEntry {
  return {
    files: [],
    homepage: "https://github.com/alinlab/CSI",
    license: "Released with CSI (alinlab/CSI, MIT license for the code); the images keep their source " +
      "datasets' terms (research use).",
    layout: `${p.label}: 10 000 32×32 PNGs of ${p.source} (CSI's ${p.script}); the loader reads every PNG/JPEG ` +
      `below data/${p.name}/, at any depth`,
    expectedImages: 10000,
    manual: `${p.label} is published only as a Google Drive file (CSI's README), with no format, size or checksum ` +
      `to verify, so it is installed by hand: open ${p.url} in a browser, download it, unpack it, and put its ` +
      `10 000 PNGs anywhere below data/${p.name}/ (or $OOD_DATA_DIR/${p.name}/).`,
  };
}

/**
 * An ODIN OOD archive (Liang et al., ICLR 2018): a tar.gz on Dropbox with neither a published size nor a
 * SHA-256, so it is verified by the MD5 that pytorch-ood pins for the same file.
 */
function odinArchive(p: {
  url: string;
  filename: string;
  md5: string;
  checksumSource: string;
  layout: string;
  expectedImages: number;
}): ManifestEntry {
  return {
    files: [{
      url: p.url,
      filename: p.filename,
      format: "tar.gz",
      size: null, // not published
      sha256: null, // not published
      md5: p.md5,
      checksumSource: p.checksumSource,
    }],
    homepage: "https://github.com/facebookresearch/odin",
    license: ODIN_LICENSE,
    layout: p.layout,
    expectedImages: p.expectedImages,
  };
}

/**
 * A 10 000-image subset of Huang & Li's MOS OOD benchmark (CVPR 2021; `deeplearning-wisc/large_scale_ood`): a tar.gz
 * on the authors' web page with neither a published size nor a SHA-256, verified by the MD5 that the `detectors`
 * library pins for the same file.
 */
function mosArchive(p: { file: string; md5: string; layout: string }): ManifestEntry {
  return {
    files: [{
      url: `http://pages.cs.wisc.edu/~huangrui/imagenet_ood_dataset/${p.file}`,
      filename: p.file,
      format: "tar.gz",
      size: null, // not published
      sha256: null, // not published
      md5: p.md5,
      checksumSource: "edadaltocg/detectors src/detectors/data/mos.py (MD5)",
    }],
    homepage: "https://github.com/deeplearning-wisc/large_scale_ood",
    license: "Released with MOS (Huang & Li, CVPR 2021) for research use; images subject to the original " +
      "dataset's terms (iNaturalist: per-image licenses of the iNaturalist 2017 release; SUN: research use).",
    layout: p.layout,
    expectedImages: 10000,
  };
}

/** The manifest, by registry name. */
export const MANIFEST = {
  cifar10: {
    files: [{
      url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
      filename: "cifar-10-binary.tar.gz",
      format: "tar.gz",
      size: 170052171,
      sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
      checksumSource: `${TFDS}/cifar10.txt`,
    }],
    homepage: "https://www.cs.toronto.edu/~kriz/cifar.html",
    license:
      "No explicit license; free for research, cite Krizhevsky (2009), 'Learning Multiple Layers of Features from Tiny Images'.",
    layout: "cifar-10-batches-bin/{data_batch_1..5.bin, test_batch.bin, batches.meta.txt} (binary version)",
  },
  cifar100: {
    files: [{
      url: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
      filename: "cifar-100-binary.tar.gz",
      format: "tar.gz",
      size: 168513733,
      sha256: "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec",
      checksumSource: `${TFDS}/cifar100.txt`,
    }],
    homepage: "https://www.cs.toronto.edu/~kriz/cifar.html",
    license: "No explicit license; free for research, cite Krizhevsky (2009).",
    layout: "cifar-100-binary/{train.bin, test.bin, fine_label_names.txt, coarse_label_names.txt} (binary version)",
  },
  svhn: {
    files: [{
      url: "http://ufldl.stanford.edu/housenumbers/test_32x32.mat",
      filename: "test_32x32.mat",
      format: "file",
      size: 64275384,
      sha256: "cdce80dfb2a2c4c6160906d0bd7c68ec5a99d7ca4831afa54f09182025b6a75b",
      checksumSource: `${TFDS}/svhn_cropped.txt`,
    }],
    homepage: "http://ufldl.stanford.edu/housenumbers/",
    license: "Non-commercial use only (SVHN terms); cite Netzer et al. (2011).",
    layout: "test_32x32.mat (MATLAB v5, X: 32×32×3×26032 uint8, y: 26032×1 labels 1..10)",
    expectedImages: 26032,
  },
  tin_crop: odinArchive({
    url: "https://www.dropbox.com/s/avgm2u562itwpkl/Imagenet.tar.gz?dl=1",
    filename: "Imagenet.tar.gz",
    md5: "7c0827e4246c3718a5ee076e999e52e5", // pytorch-ood TinyImageNetCrop
    checksumSource: "pytorch-ood dataset/img/odin.py (MD5)",
    layout: "Imagenet/test/*.jpg — 10 000 random 32×32 crops of Tiny ImageNet test images",
    expectedImages: 10000,
  }),
  tin_resize: odinArchive({
    url: "https://www.dropbox.com/s/kp3my3412u5k9rl/Imagenet_resize.tar.gz?dl=1",
    filename: "Imagenet_resize.tar.gz",
    md5: "0f9ff11d45babf2eff5fe12281d1ac31", // pytorch-ood TinyImageNetResize
    checksumSource: "pytorch-ood dataset/img/odin.py (MD5)",
    layout: "Imagenet_resize/Imagenet_resize/*.jpg — 10 000 Tiny ImageNet test images downsized to 32×32",
    expectedImages: 10000,
  }),
  lsun_crop: odinArchive({
    url: "https://www.dropbox.com/s/fhtsw1m3qxlwj6h/LSUN.tar.gz?dl=1",
    filename: "LSUN.tar.gz",
    md5: "458a0a0ab8e5f1cb4516d7400568e460", // pytorch-ood LSUNCrop
    checksumSource: "pytorch-ood dataset/img/odin.py (MD5)",
    layout: "LSUN/test/*.jpg — 10 000 random 32×32 crops of LSUN test images",
    expectedImages: 10000,
  }),
  lsun_resize: odinArchive({
    url: "https://www.dropbox.com/s/moqh2wh8696c3yl/LSUN_resize.tar.gz?dl=1",
    filename: "LSUN_resize.tar.gz",
    md5: "278b7b31c8cb7e804a1465a8ce03a2dc", // pytorch-ood LSUNResize
    checksumSource: "pytorch-ood dataset/img/odin.py (MD5)",
    layout: "LSUN_resize/LSUN_resize/*.jpg — 10 000 LSUN test images downsized to 32×32",
    expectedImages: 10000,
  }),
  isun: odinArchive({
    url: "https://www.dropbox.com/s/ssz7qxfqae0cca5/iSUN.tar.gz?dl=1",
    filename: "iSUN.tar.gz",
    md5: "be77b0f2c26fda898afac5f99645ee70", // pytorch-ood iSUN
    checksumSource: "pytorch-ood dataset/img/isun.py (MD5)",
    layout: "iSUN/<folder>/*.jpeg — 8 925 32×32 natural-scene patches",
    expectedImages: 8925,
  }),
  textures: {
    files: [{
      url: "https://www.robots.ox.ac.uk/~vgg/data/dtd/download/dtd-r1.0.1.tar.gz",
      filename: "dtd-r1.0.1.tar.gz",
      format: "tar.gz",
      size: 625239812,
      sha256: "e42855a52a4950a3b59612834602aa253914755c95b0cff9ead6d07395f8e205",
      checksumSource: `${TFDS}/dtd.txt`,
    }],
    homepage: "https://www.robots.ox.ac.uk/~vgg/data/dtd/",
    license: "Research use only (images collected from Flickr and Google); cite Cimpoi et al. (CVPR 2014).",
    layout: "dtd/images/<47 texture classes>/*.jpg — 5 640 JPEGs of various sizes (resized + centre-cropped to 32)",
    expectedImages: 5640,
  },
  places365: {
    files: [{
      url: "http://data.csail.mit.edu/places/places365/test_256.tar",
      filename: "test_256.tar",
      format: "tar",
      size: 4736829440,
      sha256: "037ee8180369bdde46636341b92900d4bcb8ea000c026a1fd3e0e9827a8702a1",
      checksumSource: `${TFDS}/places365_small.txt`,
    }],
    homepage: "http://places2.csail.mit.edu/",
    license: "Places365 terms: non-commercial research and educational use only; cite Zhou et al. (TPAMI 2017).",
    layout:
      "test_256/Places365_test_*.jpg — a seeded random 10 000 of the 328 500 256×256 test images (CIDER samples " +
      "10 000 test images; its exact subset is not published). The 4.7 GB archive is deleted after extraction.",
    expectedImages: 10000,
    subset: { count: 10000, seed: 0 },
  },
  inaturalist: mosArchive({
    file: "iNaturalist.tar.gz",
    md5: "5be6ea8aa027d7b631916427b32cb335",
    layout: "iNaturalist/images/*.jpg — 10 000 images of 110 plant concepts absent from ImageNet-1k (Unleashing " +
      "Mask squashes them to 32×32)",
  }),
  sun: mosArchive({
    file: "SUN.tar.gz",
    md5: "8469c3ada62211477954ec1be53b12d0",
    layout: "SUN/images/*.jpg — 10 000 images of 50 scene concepts absent from ImageNet-1k (Unleashing Mask " +
      "squashes them to 32×32)",
  }),
  lsun_fix: csiFixSet({
    name: "lsun_fix",
    label: "LSUN-FIX",
    url: "https://drive.google.com/file/d/1KVWj9xpHfVwGcErH5huVujk9snhEGOxE/view?usp=sharing",
    source: "LSUN's training images of its 10 scene classes, 1 000 each",
    script: "datasets/lsun_fix_preprocess.py",
  }),
  imagenet_fix: csiFixSet({
    name: "imagenet_fix",
    label: "ImageNet-FIX",
    url: "https://drive.google.com/file/d/1sO_-noq10mmziB1ECDyNhD5T4u5otyKA/view?usp=sharing",
    source: "ImageNet-30 training images of the 26 classes not close to a CIFAR-10 class",
    script: "datasets/imagenet_fix_preprocess.py",
  }),
  omniglot: {
    files: [{
      url: "https://github.com/brendenlake/omniglot/raw/master/python/images_evaluation.zip",
      filename: "images_evaluation.zip",
      format: "zip",
      size: 6462886,
      sha256: "1f61a8f3366785b057fc117d9228e78a16e3d976c8953b2a10fcc74cf0609cee",
      checksumSource: `${TFDS}/omniglot.txt`,
    }],
    homepage: "https://github.com/brendenlake/omniglot",
    license: "MIT License (brendenlake/omniglot); cite Lake et al. (Science 2015).",
    layout: "images_evaluation/<alphabet>/<character>/*.png — 13 180 105×105 1-bit PNGs (evaluation set)",
    expectedImages: 13180,
  },
} as const satisfies Record<string, ManifestEntry>;

/** Names that can be fetched with `deno task data <name>`. */
export type DownloadableName = keyof typeof MANIFEST;

/** True if `name` has a manifest entry. */
export function isDownloadable(name: string): name is DownloadableName {
  return Object.hasOwn(MANIFEST, name);
}
