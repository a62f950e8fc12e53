import { skipNative } from "./_native.ts";
import { trainingStepTests } from "../_training_steps.ts";
import { assertSeedDeterminism } from "../../train/_determinism.ts";

if (!skipNative) {
  trainingStepTests("native");
  Deno.test("the same seed gives identical losses on the native engine, another seed does not", () => {
    assertSeedDeterminism();
  });
}
