/**
 * The zip format `torch.save` writes since PyTorch 1.6: `<root>/data.pkl` (the pickle), `<root>/data/<key>` (one
 * raw storage per key, stored uncompressed), `<root>/version` and, since 2.x, `<root>/byteorder`. The root folder's
 * name varies (`archive`, or the file's stem), so it is found from `data.pkl`.
 * @module
 */
import { DownloadError } from "../../datasets/errors.ts";
import { type ZipMember, zipMembers } from "../../datasets/zip.ts";
import { STORAGE_DTYPES } from "./globals.ts";
import { unpickle } from "./pickle.ts";
import { TensorAssembler } from "./tensor.ts";
import { type PickleValue, TorchCheckpointError, type TorchDType } from "./types.ts";

const dec = new TextDecoder();

/** Converts the zip layer's errors (bad entry paths, CRC mismatches, truncation) into checkpoint errors. */
function zipCall<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DownloadError) {
      const problem = /^(refusing|truncated|corrupt)/.test(e.problem) ? e.problem : `corrupt zip: ${e.problem}`;
      throw new TorchCheckpointError(file, problem);
    }
    throw e;
  }
}

/** The element type a persistent id's storage type names (untyped storages are bytes). */
export function storageDType(type: PickleValue, file: string): TorchDType {
  const name = (type as { kind?: string; name?: string } | null)?.kind === "global"
    ? (type as { name: string }).name
    : String(type);
  if (name === "torch.UntypedStorage" || name === "torch.storage.UntypedStorage") return "uint8";
  const dtype = STORAGE_DTYPES.get(name);
  if (!dtype) throw new TorchCheckpointError(file, `unsupported storage type ${name}`);
  return dtype;
}

/** The text of a persistent id's first field (Python 2 files may hold it as bytes). */
export function pidText(v: PickleValue | undefined): string | undefined {
  return typeof v === "string" ? v : v instanceof Uint8Array ? dec.decode(v) : undefined;
}

/**
 * Reads a zip-format checkpoint held in memory.
 * @param bytes The whole file.
 * @param file Its name, for messages.
 * @throws TorchCheckpointError for unsafe entries, storages outside the archive, refused globals, corruption.
 */
export function parseZipCheckpoint(bytes: Uint8Array, file: string): PickleValue {
  const members = zipCall(file, () => zipMembers(bytes, file));
  const byPath = new Map<string, ZipMember>(members.filter((m) => m.type === "file").map((m) => [m.path, m]));
  const pkls = [...byPath.keys()].filter((p) => /^[^/]+\/data\.pkl$/.test(p));
  if (pkls.length !== 1) {
    throw new TorchCheckpointError(
      file,
      pkls.length
        ? "corrupt: the zip holds several <root>/data.pkl"
        : "not a PyTorch checkpoint: zip without <root>/data.pkl",
    );
  }
  const root = pkls[0]!.slice(0, -"/data.pkl".length);
  const byteorder = byPath.get(`${root}/byteorder`);
  const order = byteorder ? dec.decode(zipCall(file, () => byteorder.read())).trim() : "little";
  if (order !== "little" && order !== "big") throw new TorchCheckpointError(file, `corrupt: byteorder "${order}"`);

  const storageMember = (key: string): ZipMember => {
    const m = /^[\w.-]+$/.test(key) && !key.includes("..") ? byPath.get(`${root}/data/${key}`) : undefined;
    if (!m) {
      throw new TorchCheckpointError(
        file,
        `storage pointing outside the archive: key "${key}" is not an entry ${root}/data/<key> of the zip`,
      );
    }
    return m;
  };
  const tensors = new TensorAssembler(file);
  const persistentLoad = (pid: PickleValue): PickleValue => {
    if (!Array.isArray(pid) || pidText(pid[0]) !== "storage" || pid.length < 5) {
      throw new TorchCheckpointError(file, "corrupt: a persistent id is not a storage reference");
    }
    const key = pidText(pid[2]) ?? String(pid[2]);
    storageMember(key);
    const numel = pid[4];
    if (!Number.isSafeInteger(numel)) throw new TorchCheckpointError(file, `corrupt: storage "${key}" size`);
    return tensors.storage(key, storageDType(pid[1], file), numel as number);
  };
  const pickle = zipCall(file, () => byPath.get(pkls[0]!)!.read());
  const value = unpickle(pickle, {
    file: `${file} (${pkls[0]})`,
    persistentLoad,
    rebuildTensor: (s, o, size, stride) => tensors.view(s, o, size, stride),
  });
  tensors.materialize((key) => zipCall(file, () => storageMember(key).read()), order === "big");
  return value;
}
