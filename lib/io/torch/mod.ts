/**
 * A safe reader for PyTorch checkpoint files (`.pt`, `.pth`, `.pth.tar`, `.ckpt`, …): the zip format of
 * `torch.save` since 1.6 and the legacy format before it, told apart by their first bytes, not the extension.
 * The pickle inside is interpreted here, building only data and tensors; any global outside a short allow-list
 * (`globals.ts`) is refused by name and nothing from the file is ever executed.
 *
 * @example
 * ```ts
 * const root = await readTorchCheckpoint("checkpoints/released/cider/ckpt.pt");
 * const weights = findStateDict(root, "ckpt.pt"); // lib/checkpoints/load_state_dict.ts
 * ```
 * @module
 */
import { parseLegacyCheckpoint } from "./legacy_format.ts";
import { refuseTar } from "./tar_format.ts";
import { TorchCheckpointError } from "./types.ts";
import type { PickleValue } from "./types.ts";
import { parseZipCheckpoint } from "./zip_format.ts";

export * from "./types.ts";
export { type AllowedGlobal, DEFAULT_GLOBALS } from "./globals.ts";
export { unpickle, type UnpickleOptions } from "./pickle.ts";

/**
 * The container formats a checkpoint file may be in: `zip` (torch ≥ 1.6), `legacy` (torch < 1.6, or any pickle:
 * a plain pickle is read as data), `tar` (refused: torch < 0.1.10, or an archive to unpack first), `unknown`.
 */
export type TorchFileFormat = "zip" | "legacy" | "tar" | "unknown";

/** The format of a checkpoint from its first bytes. */
export function detectTorchFormat(bytes: Uint8Array): TorchFileFormat {
  const at = (i: number, s: string) => [...s].every((c, j) => bytes[i + j] === c.charCodeAt(0));
  if (at(0, "PK\x03\x04") || at(0, "PK\x05\x06")) return "zip";
  if (bytes.length >= 512 && at(257, "ustar")) return "tar";
  // Protocol 2+ starts with PROTO; protocols 1 and 0 start torch's magic number with LONG1 or LONG, and a plain
  // protocol 0/1 pickle usually with MARK, EMPTY_DICT/LIST/TUPLE or GLOBAL.
  if ([0x80, 0x8a, 0x4c, 0x28, 0x7d, 0x5d, 0x29, 0x63].includes(bytes[0]!)) return "legacy";
  return "unknown";
}

/**
 * Reads a checkpoint already in memory.
 * @param bytes The file's content.
 * @param file Its name, for messages.
 * @returns The unpickled root value, tensors filled in.
 * @throws TorchCheckpointError naming the file: a refused global, an unsafe archive, truncation or corruption.
 */
export function parseTorchCheckpoint(bytes: Uint8Array, file: string): PickleValue {
  const format = detectTorchFormat(bytes);
  try {
    if (format === "zip") return parseZipCheckpoint(bytes, file);
    if (format === "legacy") return parseLegacyCheckpoint(bytes, file);
  } catch (e) {
    if (e instanceof TorchCheckpointError) throw e;
    // A guard: any slip past the explicit bounds checks still reads as a damaged file, not a RangeError.
    throw new TorchCheckpointError(file, `corrupt or truncated file (${(e as Error).message})`);
  }
  if (format === "tar") refuseTar(bytes, file);
  if (bytes.length < 4) throw new TorchCheckpointError(file, `truncated: ${bytes.length} bytes`);
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart().toLowerCase();
  const hint = head.startsWith("<!doctype") || head.startsWith("<html") ? " (an HTML page: a failed download?)" : "";
  const magic = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  throw new TorchCheckpointError(file, `not a PyTorch checkpoint: unknown format, first bytes ${magic}${hint}`);
}

/**
 * Reads a checkpoint file (any extension; the format is detected from its content).
 * @param path The file.
 * @returns The unpickled root value, tensors filled in.
 * @throws TorchCheckpointError naming the file (see {@link parseTorchCheckpoint}); Deno's errors if unreadable.
 */
export async function readTorchCheckpoint(path: string): Promise<PickleValue> {
  return parseTorchCheckpoint(await Deno.readFile(path), path);
}
