import assert from "node:assert/strict";
import { join } from "node:path";
import { listFiles, TESTDATA } from "./_fixtures.ts";
import { generateFixtures } from "./testdata/make_fixtures.ts";

Deno.test("the committed fixtures are exactly what make_fixtures.ts generates, and stay small", () => {
  const tmp = Deno.makeTempDirSync({ prefix: "ood-fix-" });
  try {
    const written = generateFixtures(tmp);
    const committed = listFiles(TESTDATA).filter((f) => f !== "make_fixtures.ts" && !f.includes(".ood-cache"));
    assert.deepEqual(committed, written);
    let total = 0;
    for (const f of written) {
      const a = Deno.readFileSync(join(tmp, f)), b = Deno.readFileSync(join(TESTDATA, f));
      assert.deepEqual(a, b, `${f} differs from the generator's output; re-run make_fixtures.ts`);
      total += b.length;
    }
    assert.ok(total < 1024 * 1024, `fixtures total ${total} bytes`);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});
