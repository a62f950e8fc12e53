import assert from "node:assert/strict";
import { byProfile, currentProfile, parseProfile, PROFILES } from "@lib/report/profile.ts";

function withEnv(name: string, value: string | undefined, fn: () => void): void {
  const old = Deno.env.get(name);
  value === undefined ? Deno.env.delete(name) : Deno.env.set(name, value);
  try {
    fn();
  } finally {
    old === undefined ? Deno.env.delete(name) : Deno.env.set(name, old);
  }
}

Deno.test("parseProfile() accepts the three profiles in any case and lists them for an unknown name", () => {
  assert.deepEqual([...PROFILES], ["smoke", "default", "paper"]);
  assert.equal(parseProfile(" Smoke "), "smoke");
  assert.throws(
    () => parseProfile("fast", "OOD_PROFILE"),
    /Unknown OOD_PROFILE "fast"\. Valid profiles: smoke, default, paper\./,
  );
});

Deno.test("currentProfile() reads OOD_PROFILE and defaults to default", () => {
  withEnv("OOD_PROFILE", undefined, () => assert.equal(currentProfile(), "default"));
  withEnv("OOD_PROFILE", "paper", () => assert.equal(currentProfile(), "paper"));
  withEnv("OOD_PROFILE", "huge", () => assert.throws(() => currentProfile(), /Unknown OOD_PROFILE "huge"/));
});

Deno.test("byProfile() picks the value of the current or the given profile", () => {
  const epochs = { smoke: 1, default: 5, paper: 100 };
  assert.equal(byProfile(epochs, "paper"), 100);
  withEnv("OOD_PROFILE", "smoke", () => assert.equal(byProfile(epochs), 1));
});
