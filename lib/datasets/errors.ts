/**
 * Errors of the dataset layer. Every message names the file (or dataset) and what is wrong with it.
 * @module
 */

/** A file exists but its content is not what the reader expects (bad magic, truncated, wrong size…). */
export class DatasetFormatError extends Error {
  /** The offending file (path or archive member). */
  readonly file: string;
  /** What is wrong, in words. */
  readonly problem: string;

  /**
   * Builds the message `<file>: <problem>`.
   * @param file The offending file.
   * @param problem What is wrong.
   */
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "DatasetFormatError";
    this.file = file;
    this.problem = problem;
  }
}

/** A downloadable dataset is not on disk; the message names the command that fetches it. */
export class DatasetMissingError extends Error {
  /** Registry name of the missing dataset. */
  readonly dataset: string;
  /** Where it was looked for. */
  readonly path: string;

  /**
   * Builds a message that ends with the `deno task data <dataset>` command.
   * @param dataset Registry name.
   * @param path Where it was looked for.
   * @param detail What exactly is missing.
   */
  constructor(dataset: string, path: string, detail: string) {
    super(
      `Dataset "${dataset}" is not available: ${detail} (looked in ${path}). ` +
        `Fetch it with: deno task data ${dataset}`,
    );
    this.name = "DatasetMissingError";
    this.dataset = dataset;
    this.path = path;
  }
}

/** A download or archive could not be verified or safely installed. */
export class DownloadError extends Error {
  /** The file (URL, archive, or member) concerned. */
  readonly file: string;
  /** What went wrong. */
  readonly problem: string;

  /**
   * Builds the message `<file>: <problem>`.
   * @param file The file concerned.
   * @param problem What went wrong.
   */
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "DownloadError";
    this.file = file;
    this.problem = problem;
  }
}
