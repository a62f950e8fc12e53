import assert from "node:assert/strict";
import { gridPlan, runGrid } from "@lib/experiment/grid.ts";
import type { EvalSets } from "@lib/experiment/eval_sets.ts";
import type { ResultRow } from "@lib/report/results.ts";
import { row } from "../report/_fixtures.ts";
import { toyDataset } from "./_fixtures.ts";

/** Sets named after the setting (no images needed by these runs). */
function fakeSets(id: string): EvalSets {
  const ds = toyDataset(2, 0, id);
  return { id: "mnist", train: ds, heldOut: ds, test: ds, ood: {}, oodGroups: {}, extra: {} };
}

function fakeRows(setting: string, seed: number, method: string, variant: string): ResultRow[] {
  return [row({ score: "msp", oodDataset: "noise", seed, idDataset: setting, method, variant: variant as "none" })];
}

Deno.test("runGrid() runs settings × seeds × variants × methods in order, loading each setting once", async () => {
  const log: string[] = [];
  const exp = await runGrid({
    settings: ["a", "b"],
    seeds: [0, 1],
    variants: ["faithful", "clean"],
    methods: ["ce", "um"],
    variantFree: ["ce"],
    load: (s, i) => {
      log.push(`load ${s} ${i}`);
      return Promise.resolve(fakeSets(s));
    },
    prepare: (cell, sets) => {
      log.push(`prepare ${cell.setting} ${cell.seed} ${cell.variant} ${sets.train.name}`);
      return Promise.resolve(`shared ${cell.setting}/${cell.seed}/${cell.variant}`);
    },
    run: async (cell, _sets, shared, stage) => {
      await stage("training");
      log.push(`run ${cell.setting} ${cell.seed} ${cell.variant} ${cell.method} (${shared})`);
      return { rows: fakeRows(cell.setting, cell.seed, cell.method, cell.variant), result: cell.method.length };
    },
    release: (shared) => void log.push(`release ${shared}`),
  });
  assert.deepEqual(log.slice(0, 6), [
    "load a 0",
    "prepare a 0 faithful a",
    "run a 0 none ce (shared a/0/faithful)",
    "run a 0 faithful um (shared a/0/faithful)",
    "release shared a/0/faithful",
    "prepare a 0 clean a",
  ]);
  assert.equal(log.filter((l) => l.startsWith("load")).length, 2, "each setting loaded once");
  assert.equal(log.filter((l) => l.includes(" ce ")).length, 4, "the variant-free method runs once per seed");
  assert.deepEqual(exp.runs.map((r) => `${r.setting}${r.seed}:${r.variant}/${r.method}`), [
    "a0:none/ce",
    "a0:faithful/um",
    "a0:clean/um",
    "a1:none/ce",
    "a1:faithful/um",
    "a1:clean/um",
    "b0:none/ce",
    "b0:faithful/um",
    "b0:clean/um",
    "b1:none/ce",
    "b1:faithful/um",
    "b1:clean/um",
  ]);
  assert.deepEqual(exp.sets.map((s) => s.train.name), ["a", "b"]);
  assert.equal(exp.rows.length, 12);
  assert.deepEqual(exp.rows.map((r) => r.variant), exp.runs.map((r) => r.variant));
  assert.equal(exp.runs[1]!.result, 2);
  assert.ok(exp.runs.every((r) => r.seconds >= 0 && r.settingIndex === (r.setting === "a" ? 0 : 1)));
  const t = exp.timings.toJSON();
  assert.deepEqual(Object.keys(t).sort(), ["ce", "data", "prepare", "um"]);
  assert.deepEqual(gridPlan(["faithful", "clean"], ["ce", "um"], ["ce"]), [
    { variant: "faithful", methods: ["ce", "um"] },
    { variant: "clean", methods: ["um"] },
  ]);
});

Deno.test("runGrid() releases what prepare built even when a run throws, and rejects an empty grid", async () => {
  const released: string[] = [];
  await assert.rejects(
    () =>
      runGrid({
        settings: ["a"],
        seeds: [0],
        methods: ["ce"],
        load: (s) => Promise.resolve(fakeSets(s)),
        prepare: () => Promise.resolve("model"),
        run: () => Promise.reject(new Error("diverged")),
        release: (shared) => void released.push(shared),
      }),
    /diverged/,
  );
  assert.deepEqual(released, ["model"]);
  const base = { settings: ["a"], seeds: [0], methods: ["ce"], load: () => Promise.resolve(fakeSets("a")) };
  const run = () => Promise.resolve({ rows: [], result: null });
  await assert.rejects(() => runGrid({ ...base, seeds: [], run }), /must each be non-empty/);
  await assert.rejects(() => runGrid({ ...base, methods: [], run }), /must each be non-empty/);
  const one = await runGrid({ ...base, run });
  assert.deepEqual(one.runs.map((r) => [r.variant, r.method]), [["none", "ce"]], "default variant none, no prepare");
});

Deno.test("runGrid(): methodsOf restricts a setting to some methods, in the grid's method order", async () => {
  const ran: string[] = [];
  const exp = await runGrid({
    settings: ["all", "some"],
    seeds: [0],
    methods: ["ce", "vmdls", "noKl"],
    methodsOf: (s) => s === "some" ? ["noKl", "ce"] : ["ce", "vmdls", "noKl"],
    load: (s) => Promise.resolve(fakeSets(s)),
    run: (cell) => {
      ran.push(`${cell.setting}/${cell.method}`);
      return Promise.resolve({ rows: fakeRows(cell.setting, cell.seed, cell.method, cell.variant), result: null });
    },
  });
  assert.deepEqual(ran, ["all/ce", "all/vmdls", "all/noKl", "some/ce", "some/noKl"]);
  assert.equal(exp.runs.length, 5);
});

Deno.test("runGrid() inside a run of another grid reports its stages to that run and draws no bar of its own", async () => {
  const printed: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void printed.push(a.join(" "));
  const innerGrid = () =>
    runGrid({
      settings: ["x"],
      seeds: [0],
      methods: ["inner-method"],
      load: () => Promise.resolve(fakeSets("x")),
      run: async (_cell, _sets, _shared, stage) => {
        await stage("step");
        return { rows: [], result: 0 };
      },
      label: "inner grid",
    });
  try {
    await runGrid({
      settings: ["a"],
      seeds: [0],
      methods: ["outer-method"],
      load: () => Promise.resolve(fakeSets("a")),
      run: async () => ({ rows: [], result: (await innerGrid()).runs.length }),
      label: "outer grid",
    });
    assert.ok(printed.some((l) => l.startsWith("outer grid")), printed.join("\n"));
    assert.ok(!printed.some((l) => l.startsWith("inner grid")), "no bar of the nested grid:\n" + printed.join("\n"));
    // Alone, the same grid draws its bar again.
    printed.length = 0;
    await innerGrid();
    assert.ok(printed.some((l) => l.startsWith("inner grid")), printed.join("\n"));
  } finally {
    console.log = log;
  }
});
