import assert from "node:assert/strict";
import { join } from "node:path";
import { loadPaperNumbers, PAPER_NUMBERS_DIR, parsePaperNumbers } from "@lib/report/paper_numbers.ts";

const DOC = {
  paper: "p",
  citation: "A. Author, Title, Venue 2023",
  scale: "percent",
  defaults: { method: "M", idDataset: "cifar10" },
  numbers: [
    { oodDataset: "SVHN", metric: "fpr95", value: 12.5, source: "Table 1" },
    {
      oodDataset: "LSUN",
      metric: "auroc",
      value: null,
      source: "Table 1",
      note: "not reported",
      idDataset: "cifar100",
    },
  ],
};

Deno.test("every committed paper-numbers file parses, and every number names its source", async () => {
  const files = [...Deno.readDirSync(PAPER_NUMBERS_DIR)].filter((e) => e.name.endsWith(".json"));
  assert.ok(files.length >= 1);
  for (const f of files) {
    const p = await loadPaperNumbers(join(PAPER_NUMBERS_DIR, f.name));
    assert.equal(`${p.paper}.json`, f.name, "the file is named after its paper");
    for (const n of p.numbers) assert.ok(n.source.length > 0 && (n.value === null || (n.value >= 0 && n.value <= 1)));
  }
  assert.equal((await loadPaperNumbers("demo")).paper, "demo");
});

Deno.test("parsePaperNumbers() converts percent to fractions, applies defaults, and keeps empty cells as null", () => {
  const p = parsePaperNumbers(DOC);
  assert.deepEqual(p.numbers[0], {
    method: "M",
    idDataset: "cifar10",
    oodDataset: "SVHN",
    metric: "fpr95",
    value: 0.125,
    source: "Table 1",
  });
  assert.deepEqual(p.numbers[1], {
    method: "M",
    idDataset: "cifar100",
    oodDataset: "LSUN",
    metric: "auroc",
    value: null,
    source: "Table 1",
    note: "not reported",
  });
  assert.equal(
    parsePaperNumbers({ ...DOC, scale: "fraction", numbers: [{ ...DOC.numbers[0], value: 0.2 }] }).numbers[0]!.value,
    0.2,
  );
});

Deno.test("parsePaperNumbers() names the file and the entry of a bad number", () => {
  const bad = (n: Record<string, unknown>, scale = "percent") => () =>
    parsePaperNumbers({ ...DOC, scale, numbers: [n] }, "x.json");
  const ok = DOC.numbers[0]!;
  assert.throws(bad({ ...ok, source: undefined }), /x\.json: numbers\[0\]: "source" must be a non-empty string/);
  assert.throws(bad({ ...ok, metric: "fpr" }), /unknown metric "fpr"\. Valid metrics: auroc, auprIn, auprOut, fpr95/);
  assert.throws(
    bad({ ...ok, value: 0.9 * 100 }, "fraction"),
    /value 90 must be null or a number in \[0, 1\] \(scale "fraction"\)/,
  );
  assert.throws(bad({ ...ok, value: "12" }), /value "12" must be null/);
  assert.throws(() => parsePaperNumbers({ ...DOC, citation: "" }), /"citation" must be a non-empty string/);
  assert.throws(() => parsePaperNumbers({ ...DOC, scale: "pp" }), /"scale" must be "percent" or "fraction"/);
});

Deno.test("loadPaperNumbers() of an unknown paper says where it looked", async () => {
  await assert.rejects(loadPaperNumbers("no-such-paper"), /No paper numbers at .*paper_numbers\/no-such-paper\.json/);
});
