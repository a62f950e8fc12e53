import assert from "node:assert/strict";
import { classSplitProblem } from "@lib/experiment/class_split_option.ts";

Deno.test("classSplitProblem() accepts a split that leaves seen and unseen classes and names what is wrong otherwise", () => {
  assert.equal(classSplitProblem(undefined, ["mnist"]), null);
  assert.equal(classSplitProblem(null, ["mnist"]), null);
  assert.equal(classSplitProblem({ protocol: "vmdls", fold: 5 }, ["mnist", "fashion_mnist"]), null);
  assert.equal(classSplitProblem({ protocol: "cmg", fold: 3 }, ["mnist"]), null);
  assert.match(
    classSplitProblem({ protocol: "openset" as "vmdls", fold: 5 }, ["mnist"])!,
    /classSplit\.protocol "openset" is unknown\. Valid: cmg, eloc, vmdls\./,
  );
  assert.match(classSplitProblem({ protocol: "cmg", fold: 6 }, ["mnist"])!, /fold 6 is not a "cmg" fold of mnist/);
  assert.match(classSplitProblem({ protocol: "vmdls", fold: 1 }, ["mnist"])!, /fewer than 2 seen classes of mnist/);
  assert.match(classSplitProblem({ protocol: "vmdls", fold: 10 }, ["mnist"])!, /no unseen class of mnist/);
});
