/**
 * The one way the command-line tools (`deno task reproduce`, `deno task data`) end on an error: a user error
 * (`lib/user_error.ts`: unknown profile or engine, damaged checkpoint, missing dataset, failed download) is printed
 * as its message and what to do, without the stack trace Deno prints for an uncaught error; `OOD_DEBUG=1` shows
 * the trace. A bug keeps its trace.
 * @module
 */
import { formatError, isUserError } from "../lib/user_error.ts";

/**
 * Runs a CLI's main function and returns its exit status; an error thrown out of it is printed with
 * `formatError` and gives status 2 for a user error, 1 for a bug.
 *
 * @param main The tool's main function; resolves to its exit status.
 * @param log Where the error goes; default stderr.
 */
export async function runCli(
  main: () => number | Promise<number>,
  log: (text: string) => void = console.error,
): Promise<number> {
  try {
    return await main();
  } catch (e) {
    log(formatError(e));
    return isUserError(e) ? 2 : 1;
  }
}
