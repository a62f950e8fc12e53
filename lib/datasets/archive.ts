/**
 * Safe extraction of tar, tar.gz and zip archives (written from the POSIX ustar / pax, GNU and PKWARE APPNOTE
 * specifications). tar and tar.gz are streamed; zip is read into memory (the manifest's zips are small).
 *
 * Refused, with a `DownloadError` naming the archive and the entry: absolute paths and drive letters, `..`
 * components, symlinks whose target leaves the destination, hard links to anything but an already extracted
 * regular file, writes through a symlink, device files and FIFOs, encrypted or zip64 entries, unknown entry types.
 * Corrupt data (tar header checksum, zip CRC-32, gzip/deflate errors) and truncation are errors too.
 * On error the caller removes the destination (it is always a fresh staging folder).
 * @module
 */
import { type ArchiveEntry, type ExtractOptions, type ExtractReport, SafeWriter } from "./safe_writer.ts";
import { extractTar, listTar } from "./tar.ts";
import { extractZip, listZip } from "./zip.ts";

export { type ArchiveEntry, type ExtractOptions, type ExtractReport, safeEntryPath } from "./safe_writer.ts";
export { crc32 } from "./zip.ts";

/** Archive container formats. */
export type ArchiveFormat = "tar" | "tar.gz" | "zip";

/** Lists the entries of an archive without extracting (paths validated; used for subset selection). */
export async function listArchive(archive: string, format: ArchiveFormat): Promise<ArchiveEntry[]> {
  return format === "zip" ? listZip(archive) : await listTar(archive, format === "tar.gz");
}

/**
 * Extracts `archive` into the (existing, empty) folder `dest`.
 * @example Usage
 * ```ts ignore
 * import { extractArchive } from "@lib/datasets/archive.ts";
 * await extractArchive("cifar-10-binary.tar.gz", "tar.gz", "/tmp/staging");
 * ```
 */
export async function extractArchive(
  archive: string,
  format: ArchiveFormat,
  dest: string,
  opts: ExtractOptions = {},
): Promise<ExtractReport> {
  const w = new SafeWriter(dest, archive);
  if (format === "zip") await extractZip(archive, w, opts);
  else await extractTar(archive, format === "tar.gz", w, opts);
  return w.report;
}
