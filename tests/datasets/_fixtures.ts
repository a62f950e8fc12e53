/**
 * Paths of the committed fixtures (see testdata/make_fixtures.ts) and a helper that copies the miniature data
 * root to a temporary folder, so tests that write (caches, installs) never touch the repository.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** `tests/datasets/testdata`. */
export const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), "testdata");

/** A fixture file's path. */
export function fixture(rel: string): string {
  return join(TESTDATA, rel);
}

/** Copies the contents of `src` into the existing folder `dest` (files and folders only). */
export function copySync(src: string, dest: string): void {
  for (const e of Deno.readDirSync(src)) {
    const s = join(src, e.name), d = join(dest, e.name);
    if (e.isDirectory) {
      Deno.mkdirSync(d, { recursive: true });
      copySync(s, d);
    } else if (e.isFile) Deno.copyFileSync(s, d);
  }
}

/** A fresh temporary copy of `testdata/root`; remove it with `Deno.removeSync(dir, { recursive: true })`. */
export function tempDataRoot(): string {
  const dir = Deno.makeTempDirSync({ prefix: "ood-root-" });
  copySync(join(TESTDATA, "root"), dir);
  return dir;
}

/** Lists every file under `dir` (relative paths, sorted). */
export function listFiles(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(rel ? join(dir, rel) : dir)) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...listFiles(dir, r));
    else out.push(r);
  }
  return out.sort();
}
