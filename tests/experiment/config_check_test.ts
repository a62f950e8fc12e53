import assert from "node:assert/strict";
import { configChecks } from "@lib/experiment/config_check.ts";

Deno.test("configChecks() throws messages that name the config, the field and the valid values", () => {
  const c = configChecks("DemoConfig");
  c.posInt(3, "epochs");
  c.posInt(null, "limit", true);
  c.inRange(1, "p", 0, 1);
  c.list(["a", "b"], "sets", ["a", "b", "c"]);
  assert.throws(() => c.posInt(null, "epochs"), /^Error: DemoConfig: epochs must be a positive integer, got null$/);
  assert.throws(() => c.posInt(1.5, "epochs"), /epochs must be a positive integer, got 1\.5/);
  assert.throws(() => c.positive(Infinity, "lr"), /lr must be a finite number > 0, got Infinity/);
  assert.throws(() => c.inRange(1, "momentum", 0, 1, true), /momentum must be in \[0, 1\), got 1/);
  assert.throws(
    () => c.oneOf("resnet", "backbone", ["lenet"]),
    /DemoConfig: backbone "resnet" is unknown\. Valid: lenet\./,
  );
  assert.throws(() => c.list([], "seeds"), /seeds is empty/);
  assert.throws(() => c.list([0, 0], "seeds"), /seeds repeat: 0, 0/);
  assert.throws(() => c.list(["d"], "sets", ["a"]), /sets entry "d" is unknown\. Valid: a\./);
  assert.throws(() => c.fail("custom"), /^Error: DemoConfig: custom$/);
});
