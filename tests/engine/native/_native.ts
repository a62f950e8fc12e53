/**
 * Starts the native engine for a test file. The library is built by `.ci/run` and the README's set-up
 * command; if it is missing the tests fail, unless OOD_SKIP_NATIVE=1 marks them ignored on purpose.
 */
import { initBackend } from "@lib/engine/mod.ts";

export const skipNative = Deno.env.get("OOD_SKIP_NATIVE") === "1";
if (!skipNative) await initBackend({ backend: "native", log: null });

/** `Deno.test` for native-engine tests: ignored only when OOD_SKIP_NATIVE=1. */
export function nativeTest(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name, ignore: skipNative, fn });
}
