import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { maxLogit } from "@lib/scores/max_logit.ts";
import { assertClose, noLeak } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("maxLogit() equals max_c f_c on a hand-computed 3×3 example, without leaks", () => {
  const logits = tf.tensor2d([[1, 5, -2], [-3, -1, -2], [0.5, 0.5, 0.25]]);
  // row maxima: 5, −1, 0.5
  assertClose(noLeak(() => maxLogit(logits)), [5, -1, 0.5], 0);
  logits.dispose();
});
