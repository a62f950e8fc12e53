/**
 * Tar files among checkpoints: `torch.save` of torch < 0.1.10 wrote a tar of `sys_info`, `pickle`, `tensors` and
 * `storages`; authors also share a checkpoint packed in a tar (a `.tar` download). Neither is read here, but the
 * message should say which one the user has, so this lists the member names from the ustar headers.
 * @module
 */
import { TorchCheckpointError } from "./types.ts";

const ANCIENT_MEMBERS = ["sys_info", "pickle", "tensors", "storages"];

/** The names of the first `max` members of a tar held in memory (stops at the end block or a bad header). */
export function tarMemberNames(bytes: Uint8Array, max = 8): string[] {
  const names: string[] = [];
  const latin1 = new TextDecoder("latin1");
  for (let at = 0; at + 512 <= bytes.length && names.length < max;) {
    const header = bytes.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from: number, len: number) => latin1.decode(header.subarray(from, from + len)).replace(/\0.*$/s, "");
    const size = parseInt(field(124, 12).trim() || "0", 8);
    if (!Number.isSafeInteger(size) || size < 0) break;
    const prefix = field(345, 155);
    names.push(prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

/** The refusal for a tar file, saying whether it is torch's ancient format or an archive to unpack first. */
export function refuseTar(bytes: Uint8Array, file: string): never {
  const names = tarMemberNames(bytes);
  if (names.length > 0 && names.every((n) => ANCIENT_MEMBERS.includes(n.replace(/^\.\//, "")))) {
    throw new TorchCheckpointError(
      file,
      "unsupported: the tar format of torch < 0.1.10; load and re-save it with a newer torch",
    );
  }
  throw new TorchCheckpointError(
    file,
    `not a PyTorch checkpoint but a tar archive (members: ${names.join(", ") || "none"}); extract it and read the ` +
      "checkpoint inside",
  );
}
