import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { energy } from "@lib/scores/energy.ts";
import { assertClose, noLeak } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("energy() equals T·logsumexp(f/T) on a hand-computed 2×2 example", () => {
  const logits = tf.tensor2d([[0, Math.log(3)], [2, 2]]);
  // T = 1: log(1 + 3) = ln 4 = 1.386294; log(2e²) = 2 + ln 2 = 2.693147
  assertClose(noLeak(() => energy(logits)), [Math.log(4), 2 + Math.LN2], 1e-6, "T=1");
  // T = 2: 2·log(1 + e^{ln3/2}) = 2·ln(1 + √3) = 2.010104; 2·log(2e) = 2 + 2 ln 2 = 3.386294
  assertClose(
    noLeak(() => energy(logits, { temperature: 2 })),
    [2 * Math.log(1 + Math.sqrt(3)), 2 + 2 * Math.LN2],
    1e-5,
    "T=2",
  );
  logits.dispose();
});

Deno.test("energy() is the negated free energy: higher for more confident logits, stable at 1000", () => {
  const logits = tf.tensor2d([[1000, 1000], [10, 0], [0, 0]]);
  const s = noLeak(() => energy(logits));
  assertClose([s[0]!], [1000 + Math.LN2], 1e-3);
  assert.ok(s[1]! > s[2]!);
  logits.dispose();
});
