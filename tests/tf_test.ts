import assert from "node:assert/strict";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("lib/tf.ts is the only module that imports TensorFlow.js", async () => {
  const offenders: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory) await walk(path);
      else if (/\.(ts|js)$/.test(e.name) && path !== join(ROOT, "lib", "tf.ts")) {
        const text = await Deno.readTextFile(path);
        if (/from\s+["'](npm:)?@tensorflow\/|import\(\s*["'](npm:)?@tensorflow\//.test(text)) {
          offenders.push(path.slice(ROOT.length));
        }
      }
    }
  };
  for (const dir of ["lib", "tests", "bench", "tools"]) await walk(join(ROOT, dir));
  assert.deepEqual(offenders, [], `these import @tensorflow/* directly: ${offenders.join(", ")}`);
});

Deno.test("lib/tf.ts imports no engine module: the engines import TF.js from it without a cycle", async () => {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json", "lib/tf.ts"], cwd: ROOT }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string; dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[] }[];
  };
  const deps = new Map(graph.modules.map((m) => [
    m.specifier,
    (m.dependencies ?? []).flatMap((d) => [d.code?.specifier, d.type?.specifier]).filter((s): s is string => !!s),
  ]));
  const tfUrl = new URL("lib/tf.ts", `file://${ROOT}`).href;
  const engineDir = new URL("lib/engine/", `file://${ROOT}`).href;
  // While other modules still import initBackend from lib/tf.ts, it re-exports it from lib/engine/mod.ts; that one
  // edge is allowed only as long as it is marked TEMPORARY.
  const temporary = /TEMPORARY re-export/.test(await Deno.readTextFile(join(ROOT, "lib", "tf.ts")));
  const seen = new Set<string>(), stack = [tfUrl];
  while (stack.length) {
    const m = stack.pop()!;
    for (const d of deps.get(m) ?? []) {
      if (m === tfUrl && temporary && d === `${engineDir}mod.ts`) continue;
      if (!seen.has(d)) seen.add(d) && stack.push(d);
    }
  }
  assert.deepEqual([...seen].filter((s) => s.startsWith(engineDir)), [], "engine modules reachable from lib/tf.ts");
  assert.ok(!seen.has(tfUrl), "lib/tf.ts imports itself through its dependencies");
});
