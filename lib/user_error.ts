/**
 * Errors a person causes from the command line or a notebook's settings (an unknown profile or engine, a damaged
 * checkpoint, a dataset that is not installed, a failed download), as opposed to bugs.
 *
 * The command-line tools print a user error as its message and what to do, without a stack trace (the trace
 * points into our code, not at what the person has to change); `OOD_DEBUG=1` adds it back. Anything else is a
 * bug and keeps its stack. See `tools/cli.ts`.
 * @module
 */

/** An error the user can fix: `message` says what is wrong, `hint` (when given) what to do about it. */
export class UserError extends Error {
  /**
   * @param message What is wrong, naming the value or file.
   * @param hint What to do about it, one sentence; shown on its own line.
   */
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = "UserError";
  }
}

/**
 * The names of the error classes that mean "the user can fix this": {@link UserError} and its subclasses, and the
 * error classes of the dataset, engine and checkpoint layers, which name the file or value and what is wrong. By
 * name, so that the notebook runner can tell them apart in a kernel's error output (`ename`) too.
 */
export const USER_ERROR_NAMES: ReadonlySet<string> = new Set([
  "UserError",
  "CheckpointError",
  "TorchCheckpointError",
  "DatasetMissingError",
  "DatasetFormatError",
  "DownloadError",
  "EngineUnavailable",
]);

/** Whether `e` is an error the user can fix (see {@link USER_ERROR_NAMES}). */
export function isUserError(e: unknown): e is Error {
  return e instanceof UserError || (e instanceof Error && USER_ERROR_NAMES.has(e.name));
}

/** Whether `OOD_DEBUG=1` asks for stack traces of user errors too. */
export function debugErrors(): boolean {
  try {
    return Deno.env.get("OOD_DEBUG") === "1";
  } catch {
    return false; // no --allow-env
  }
}

/**
 * How a command-line tool shows an error: `error: <message>` and, on the next line, the hint; the stack trace
 * only for a bug or when `debug` (default `OOD_DEBUG=1`).
 */
export function formatError(e: unknown, debug: boolean = debugErrors()): string {
  if (!(e instanceof Error)) return `error: ${String(e)}`;
  const hint = e instanceof UserError && e.hint ? `\n  ${e.hint}` : "";
  if (isUserError(e) && !debug) return `error: ${e.message}${hint}`;
  const stack = e.stack ?? `${e.name}: ${e.message}`;
  return `error: ${stack}${hint}`;
}
