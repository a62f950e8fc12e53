/**
 * The authors' released weights: what each file is, where it comes from and how it is verified.
 * @module
 */

/** The papers that published trained weights. */
export type ReleasedPaper = "cider" | "eloc" | "vmdls" | "unleashing_mask";

/** How a released file is verified after download or import. */
export interface ReleasedChecksum {
  /** Lower-case hex SHA-256 of the file, when published. */
  readonly sha256?: string;
  /**
   * The git blob id (SHA-1 of `"blob <size>\0" + content`) of a file committed to the authors' repository: the
   * repository's tree publishes it, so a file fetched from that commit is verified against it.
   */
  readonly gitBlobSha1?: string;
  /** Exact size in bytes, when published. */
  readonly size?: number;
  /** Where the values were read (file and commit). */
  readonly source: string;
}

/** One file the authors published. */
export interface ReleasedFile {
  readonly paper: ReleasedPaper;
  /** Short id used on the command line and in configs, e.g. `"cider_cifar10_resnet18"`. */
  readonly id: string;
  /** What it holds, in words (network, ID data, training). */
  readonly description: string;
  /** Where the authors link it. */
  readonly url: string;
  /**
   * `direct`: a program can fetch `url` (a raw GitHub file, a Dropbox link); `manual`: a person downloads it in a
   * browser (Google Drive) and imports it with `deno task data checkpoints <paper> --import <file>`.
   */
  readonly download: "direct" | "manual";
  /** The name it is kept under in `checkpoints/released/<paper>/`. */
  readonly filename: string;
  /** `file`: the checkpoint itself; `tar.gz`: an archive the checkpoints are extracted from. */
  readonly format: "file" | "tar.gz";
  /** For an archive: the checkpoint files it holds (paths inside the archive). */
  readonly members?: readonly string[];
  /** Published size and checksums; absent when the authors publish none (the import then asks for trust). */
  readonly checksum?: ReleasedChecksum;
  /** Where this entry's facts were read (README line, code file and commit). */
  readonly source: string;
}
