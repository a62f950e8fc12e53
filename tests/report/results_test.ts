import assert from "node:assert/strict";
import { join } from "node:path";
import { evaluate } from "@lib/metrics/mod.ts";
import {
  DEFAULT_REPORTS_DIR,
  readManifest,
  readResults,
  reportsDir,
  RESULT_COLUMNS,
  resultFiles,
  resultRow,
  resultsDir,
  resultsFrame,
  runManifest,
  Timings,
  writeResults,
} from "@lib/report/results.ts";
import { row, twoScoresTwoSets } from "./_fixtures.ts";

const KEY = {
  paper: "baselines",
  method: "ce",
  score: "msp",
  backbone: "lenet",
  idDataset: "mnist",
  oodDataset: "noise",
  seed: 3,
  profile: "smoke",
} as const;

Deno.test("resultRow() copies evaluate()'s metrics as fractions and records how they were computed", () => {
  const r = evaluate([0.9, 0.8, 0.4], [0.5, 0.1], {
    fprRule: "hendrycks",
    idClassification: { labels: [0, 1, 1], predictions: [0, 1, 0] },
  });
  const x = resultRow(KEY, r);
  assert.equal(x.auroc, r.auroc);
  assert.equal(x.fpr95, r.fpr95);
  assert.equal(x.idAccuracy, 2 / 3);
  assert.deepEqual([x.nId, x.nOod, x.fprRule, x.auprEstimator, x.selection, x.profile], [
    3,
    2,
    "hendrycks",
    "ap",
    "last",
    "smoke",
  ]);
  assert.equal(resultRow(KEY, evaluate([1], [0])).idAccuracy, null, "no classification → null, not NaN");
});

Deno.test("resultRow() records the ODIN rule's FPR95 as null when no threshold lands in [0.9495, 0.9505]", () => {
  // 7 ID scores: TPR steps of 1/7, none in the window.
  const id = Array.from({ length: 7 }, (_, i) => i / 7);
  const r = evaluate(id, [0.05, 0.5], { fprRule: "odin" });
  assert.ok(Number.isNaN(r.fpr95));
  const x = resultRow(KEY, r);
  assert.equal(x.fpr95, null);
  assert.equal(x.auroc, r.auroc);
  assert.equal(resultsFrame([x]).getColumn("fpr95").toArray()[0], null, "the row can be written");
});

Deno.test("resultsFrame() has a fixed schema, also when empty, and rejects a metric given ×100", () => {
  const empty = resultsFrame([]);
  assert.deepEqual(empty.columns, [...RESULT_COLUMNS]);
  assert.equal(empty.height, 0);
  const df = resultsFrame(twoScoresTwoSets());
  assert.deepEqual(df.columns, empty.columns);
  assert.equal(String(df.schema.seed), "DataType(Int32)");
  assert.equal(String(df.schema.auroc), "DataType(Float64)");
  assert.throws(
    () => resultsFrame([row({ score: "msp", oodDataset: "noise", seed: 0 }, { auroc: 93.1 })]),
    /Result row 0 \(CE\/msp\/noise\): auroc = 93\.1 is not a fraction in \[0, 1\]/,
  );
});

Deno.test("writeResults() writes Parquet, CSV and the manifest that readResults()/readManifest() read back", async () => {
  const dir = await Deno.makeTempDir();
  const rows = twoScoresTwoSets();
  const timings = new Timings();
  await timings.time("score", () => 1);
  timings.add("score", 0.5);
  const manifest = await runManifest({
    paper: "t",
    name: "run1",
    config: { epochs: 2 },
    datasets: { mnist: "abc" },
    timings,
  });
  const files = await writeResults(rows, manifest, { dir });
  assert.deepEqual(files, resultFiles("run1", dir));
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
    "run1.csv",
    "run1.manifest.json",
    "run1.parquet",
  ], "no temporary files left");
  assert.ok(readResults(files.parquet).frameEqual(resultsFrame(rows)), "Parquet keeps values and dtypes");
  const csv = await Deno.readTextFile(files.csv);
  assert.equal(csv.split("\n")[0], RESULT_COLUMNS.join(","));
  assert.match(
    csv,
    /\nt,ce,none,CE,msp,lenet,mnist,fashion,far,smoke,last,sklearn,0,1\.0,0\.9,,,0\.4,,,0\.99,,,10,10,ap,,\n/,
  );
  const back = await readManifest(files.manifest);
  assert.equal(back.rows, rows.length);
  assert.deepEqual(back.config, { epochs: 2 });
  assert.deepEqual(back.datasets, { mnist: "abc" });
  assert.ok(back.timings.score! >= 0.5);
  assert.equal(back.versions.deno, Deno.version.deno);
  assert.equal(back.versions.tfjs, "4.22.0");
  assert.ok(back.git === null || /^[0-9a-f]{40}$/.test(back.git.commit));
});

Deno.test("readResults() of a folder concatenates every result set, and an empty folder gives the empty schema", async () => {
  const dir = await Deno.makeTempDir();
  assert.deepEqual(readResults(dir).columns, [...RESULT_COLUMNS]);
  const m = await runManifest({ paper: "t", name: "a", config: {} });
  await writeResults(twoScoresTwoSets().slice(0, 3), m, { dir });
  await writeResults(twoScoresTwoSets().slice(0, 2), { ...m, name: "b" }, { dir });
  assert.equal(readResults(dir).height, 5);
  assert.throws(() => readResults(join(dir, "missing")), /No results at/);
});

Deno.test("resultFiles() refuses names that are not plain file names", () => {
  assert.throws(() => resultFiles("../x", "/tmp"), /must be letters, digits/);
});

Deno.test("resultsDir() outside the runner is the profile's folder, so a smoke run never replaces a default run's rows", () => {
  const names = ["OOD_RESULTS_DIR", "OOD_REPORTS_DIR", "OOD_PROFILE"];
  const old = names.map((n) => Deno.env.get(n));
  try {
    Deno.env.delete("OOD_RESULTS_DIR");
    Deno.env.delete("OOD_REPORTS_DIR");
    Deno.env.set("OOD_PROFILE", "smoke");
    assert.equal(reportsDir(), join(DEFAULT_REPORTS_DIR, "smoke"));
    assert.equal(resultsDir(), join(DEFAULT_REPORTS_DIR, "smoke", "results"));
    Deno.env.delete("OOD_PROFILE");
    assert.equal(resultsDir(), join(DEFAULT_REPORTS_DIR, "default", "results"));
    Deno.env.set("OOD_REPORTS_DIR", "/tmp/staging");
    assert.equal(resultsDir(), "/tmp/staging/results", "the runner's staging folder");
  } finally {
    names.forEach((n, i) => old[i] === undefined ? Deno.env.delete(n) : Deno.env.set(n, old[i]!));
  }
});
