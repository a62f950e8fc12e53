/**
 * The format `torch.save` wrote before PyTorch 1.6 (and still writes with `_use_new_zipfile_serialization=False`):
 * five things in a row — a pickled magic number, the protocol version (1001), a `sys_info` dict, the main pickle
 * (storages as persistent ids `('storage', type, key, location, numel, view_metadata)`), a pickled list of
 * storage keys — then each storage in that order as an 8-byte little-endian element count and its raw bytes.
 * Storage bytes are little-endian whatever machine wrote them (torch swaps on big-endian hosts).
 * @module
 */
import { unpickleAt } from "./pickle.ts";
import { ELEMENT_SIZE, TensorAssembler } from "./tensor.ts";
import { type PickleValue, TorchCheckpointError } from "./types.ts";
import { pidText, storageDType } from "./zip_format.ts";

/** The first pickle of a legacy file. */
export const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/**
 * Reads a legacy-format checkpoint held in memory. A file whose first pickle is not the magic number but is the
 * whole file is read as a plain pickle (data only, no tensors).
 * @param bytes The whole file.
 * @param file Its name, for messages.
 * @throws TorchCheckpointError for refused globals, truncation, corruption.
 */
export function parseLegacyCheckpoint(bytes: Uint8Array, file: string): PickleValue {
  const magic = unpickleAt(bytes, { file });
  if (magic.value !== LEGACY_MAGIC) {
    if (magic.end === bytes.length) return magic.value;
    throw new TorchCheckpointError(file, "not a PyTorch checkpoint: a pickle without torch's magic number");
  }
  const version = unpickleAt(bytes, { file, offset: magic.end });
  if (version.value !== LEGACY_PROTOCOL) {
    throw new TorchCheckpointError(file, `unsupported legacy protocol version ${String(version.value)}`);
  }
  const sysInfo = unpickleAt(bytes, { file, offset: version.end });

  const tensors = new TensorAssembler(file);
  const persistentLoad = (pid: PickleValue): PickleValue => {
    if (!Array.isArray(pid) || pidText(pid[0]) !== "storage" || pid.length < 5) {
      throw new TorchCheckpointError(file, "corrupt: a persistent id is not a storage reference");
    }
    if (pid[5] !== null && pid[5] !== undefined) {
      throw new TorchCheckpointError(file, "unsupported: storage views (files from torch < 0.4)");
    }
    const key = pidText(pid[2]) ?? String(pid[2]);
    const numel = pid[4];
    if (!Number.isSafeInteger(numel)) throw new TorchCheckpointError(file, `corrupt: storage "${key}" size`);
    return tensors.storage(key, storageDType(pid[1], file), numel as number);
  };
  const main = unpickleAt(bytes, {
    file,
    offset: sysInfo.end,
    persistentLoad,
    rebuildTensor: (s, o, size, stride) => tensors.view(s, o, size, stride),
  });
  const keyList = unpickleAt(bytes, { file, offset: main.end });
  if (!Array.isArray(keyList.value)) throw new TorchCheckpointError(file, "corrupt: the storage key list");

  const raw = new Map<string, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = keyList.end;
  for (const k of keyList.value as readonly PickleValue[]) {
    const key = pidText(k) ?? String(k);
    const info = tensors.info(key);
    if (!info) throw new TorchCheckpointError(file, `corrupt: storage "${key}" is listed but never used`);
    if (at + 8 > bytes.length) throw new TorchCheckpointError(file, `truncated: storage "${key}" is missing`);
    const count = view.getBigInt64(at, true);
    if (count !== BigInt(info.numel)) {
      throw new TorchCheckpointError(file, `corrupt: storage "${key}" has ${count} elements, ${info.numel} expected`);
    }
    const n = info.numel * ELEMENT_SIZE[info.dtype];
    if (at + 8 + n > bytes.length) throw new TorchCheckpointError(file, `truncated: storage "${key}" is cut short`);
    raw.set(key, bytes.subarray(at + 8, at + 8 + n));
    at += 8 + n;
  }
  tensors.materialize((key) => {
    const r = raw.get(key);
    if (!r) throw new TorchCheckpointError(file, `truncated or corrupt: storage "${key}" is not in the file`);
    return r;
  });
  return main.value;
}
