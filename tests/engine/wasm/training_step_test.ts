import { initBackend } from "@lib/engine/mod.ts";
import { trainingStepTests } from "../_training_steps.ts";
import { assertSeedDeterminism } from "../../train/_determinism.ts";

await initBackend({ backend: "wasm", log: null });
trainingStepTests("wasm");

Deno.test("the same seed gives identical losses on the wasm engine, another seed does not", () => {
  assertSeedDeterminism();
});
