import assert from "node:assert/strict";
import { parseTorchCheckpoint, readTorchCheckpoint, TorchCheckpointError } from "@lib/io/torch/mod.ts";

const DIR = new URL("./testdata/", import.meta.url).pathname;

/** Rejects with a TorchCheckpointError whose message names the file and matches every pattern. */
async function assertRefused(file: string, ...patterns: (string | RegExp)[]): Promise<void> {
  await assert.rejects(readTorchCheckpoint(DIR + file), (e: unknown) => {
    assert.ok(e instanceof TorchCheckpointError, `${file}: ${e}`);
    assert.ok(e.message.startsWith(DIR + file), `the message names the file: ${e.message}`);
    for (const p of patterns) {
      assert.ok(typeof p === "string" ? e.message.includes(p) : p.test(e.message), `${e.message} ~ ${p}`);
    }
    return true;
  });
}

const MALICIOUS: [file: string, global: string, canary: string][] = [
  ["evil_os_system.pkl", "os.system", "os_system"],
  ["evil_stack_global.pkl", "posix.system", "stack_global_system"],
  ["evil_eval.pt", "builtins.eval", "eval"],
  ["evil_popen.pth", "subprocess.Popen", "popen"],
];

for (const [file, global, canary] of MALICIOUS) {
  Deno.test(`readTorchCheckpoint() refuses ${file}, naming "${global}", and runs nothing`, async () => {
    // The fixtures' payloads create $OOD_CANARY_DIR/<name> when Python's pickle loads them (make_fixtures.py).
    const dir = await Deno.makeTempDir();
    const before = Deno.env.get("OOD_CANARY_DIR");
    Deno.env.set("OOD_CANARY_DIR", dir);
    try {
      await assertRefused(file, `refuses global "${global}"`, "nothing from the file was executed");
      await new Promise((r) => setTimeout(r, 50)); // a spawned process would have had time to write
      await assert.rejects(Deno.stat(`${dir}/${canary}`), Deno.errors.NotFound, "the canary file does not exist");
      assert.deepEqual([...Deno.readDirSync(dir)], []);
    } finally {
      if (before === undefined) Deno.env.delete("OOD_CANARY_DIR");
      else Deno.env.set("OOD_CANARY_DIR", before);
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("readTorchCheckpoint() refuses storage keys that are not entries of the archive", async () => {
  await assertRefused("storage_outside.pt", "storage pointing outside the archive", '"../../x"');
  await assertRefused("storage_missing.pt", "storage pointing outside the archive", '"7"');
});

Deno.test("readTorchCheckpoint() refuses a zip with a '..' entry", async () => {
  await assertRefused("zip_slip.pt", "archive/../../evil.txt", "'..'");
});

Deno.test("readTorchCheckpoint() refuses a tensor view reaching past its storage, naming the storage", async () => {
  await assertRefused("out_of_bounds.pt", 'storage "0"', "4 elements", "corrupt");
});

Deno.test("readTorchCheckpoint() names truncated and corrupt files as such", async () => {
  await assertRefused("truncated.pt", "truncated");
  await assertRefused("truncated_legacy.pth", "truncated");
  await assertRefused("corrupt.pt", "corrupt", "CRC");
  await assertRefused("corrupt_legacy.pth", "corrupt pickle");
});

Deno.test("readTorchCheckpoint() refuses the tar format of torch < 0.1.10 and files that are no checkpoint", async () => {
  await assertRefused("ancient.tar", "tar format", "torch < 0.1.10");
  await assertRefused("packed.tar", "tar archive", "finetuning/model.pth", "extract it");
  await assertRefused("numpy_object.pkl", 'unsupported: NumPy values of dtype "O8"');
  const html = new TextEncoder().encode("<!DOCTYPE html><html><body>Google Drive quota exceeded</body></html>");
  assert.throws(() => parseTorchCheckpoint(html, "dl.pth"), /dl\.pth: not a PyTorch checkpoint.*HTML page/);
  assert.throws(() => parseTorchCheckpoint(new Uint8Array(), "empty.pt"), /empty\.pt: truncated/);
});

Deno.test("parseTorchCheckpoint() throws only TorchCheckpointError on any prefix of a file", async () => {
  for (const file of ["state_dict.pt", "legacy.pth", "lightning.ckpt"]) {
    const bytes = await Deno.readFile(DIR + file);
    for (let n = 0; n < bytes.length; n += 5) {
      assert.throws(
        () => parseTorchCheckpoint(bytes.subarray(0, n), file),
        (e: unknown) => e instanceof TorchCheckpointError && e.file.startsWith(file),
        `${file} cut at ${n}`,
      );
    }
  }
});

Deno.test("parseTorchCheckpoint() throws only TorchCheckpointError when legacy pickle bytes are damaged", async () => {
  const bytes = await Deno.readFile(`${DIR}legacy.pth`);
  let refused = 0;
  for (let i = 0; i < 1200 && i < bytes.length; i += 3) {
    const damaged = bytes.slice();
    damaged[i] = damaged[i]! ^ 0x5a;
    try {
      parseTorchCheckpoint(damaged, "legacy.pth");
    } catch (e) {
      assert.ok(e instanceof TorchCheckpointError, `byte ${i}: ${e}`);
      refused++;
    }
  }
  assert.ok(refused > 100, `most damage is noticed (${refused})`);
});
