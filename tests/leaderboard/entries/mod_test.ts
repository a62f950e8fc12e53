import assert from "node:assert/strict";
import { LEADERBOARD_PAPERS } from "@lib/leaderboard/config.ts";
import { LEADERBOARD_ENTRIES } from "@lib/leaderboard/entries/mod.ts";

Deno.test("LEADERBOARD_ENTRIES has one entry per leaderboard paper, under its own paper id, with a title", () => {
  assert.deepEqual(Object.keys(LEADERBOARD_ENTRIES), [...LEADERBOARD_PAPERS]);
  for (const [paper, entry] of Object.entries(LEADERBOARD_ENTRIES)) {
    assert.equal(entry.paper, paper);
    assert.ok(entry.title.length > 5, `${paper}: a title`);
    assert.equal(typeof entry.run, "function");
  }
});
