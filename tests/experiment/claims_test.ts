import assert from "node:assert/strict";
import { claimsMarkdown, claimsTable, deviationsView, evaluateClaims } from "@lib/experiment/claims.ts";
import { bundleOf } from "@lib/report/jupyter.ts";
import type { ResultRow } from "@lib/report/results.ts";
import { row } from "../report/_fixtures.ts";

/** method/score → per seed [AUROC vs noise, AUROC vs fashion] (FPR95 = 1 − AUROC). */
const VALUES: Record<string, [number, number][]> = {
  "ce/msp": [[0.8, 0.9], [0.7, 0.8], [0.9, 0.9]], // per-seed means .85, .75, .90
  "ce/energy": [[0.6, 0.6], [0.6, 0.6], [0.6, 0.6]],
  "um/msp": [[0.9, 0.9], [0.8, 0.8], [0.8, 0.9]], // .90, .80, .85
  "um/knn": [[0.95, 0.95], [0.95, 0.95], [0.95, 0.95]],
};

function rows(): ResultRow[] {
  return Object.entries(VALUES).flatMap(([k, seeds]) => {
    const [method, score] = k.split("/") as [string, string];
    return seeds.flatMap(([noise, fashion], seed) =>
      [["noise", noise], ["fashion", fashion]].flatMap(([oodDataset, v]) => [
        row({ method, label: method.toUpperCase(), score, oodDataset: String(oodDataset), seed }, {
          auroc: Number(v),
          fpr95: 1 - Number(v),
        }),
        // A second FPR rule that the claims ignore (they take the first rule in the rows).
        row({ method, label: method.toUpperCase(), score, oodDataset: String(oodDataset), seed, fprRule: "odin" }, {
          auroc: 0,
          fpr95: 1,
        }),
      ])
    );
  });
}

const close = (a: number | null, b: number, what: string) =>
  assert.ok(Math.abs(a! - b) < 1e-12, `${what}: ${a} vs ${b}`);

Deno.test("evaluateClaims() compares per-seed averages over OOD sets: mean, sample std, paired seeds, per shared score", () => {
  const [c, ...rest] = evaluateClaims(rows(), [{
    id: "um",
    text: "UM raises AUROC",
    before: { method: "ce" },
    after: { method: "um" },
    metric: "auroc",
  }]);
  assert.equal(rest.length, 0, "only msp is scored on both sides");
  assert.equal(c!.setting, "mnist · lenet");
  assert.deepEqual([c!.before, c!.after], ["CE + msp", "UM + msp"]);
  close(c!.beforeMean, (0.85 + 0.75 + 0.9) / 3, "before mean");
  close(c!.afterMean, 0.85, "after mean");
  close(c!.delta, 0.85 - 2.5 / 3, "delta");
  close(c!.beforeStd, Math.sqrt(((0.85 - 2.5 / 3) ** 2 + (0.75 - 2.5 / 3) ** 2 + (0.9 - 2.5 / 3) ** 2) / 2), "std");
  close(c!.afterStd, 0.05, "after std");
  assert.equal(c!.holds, true);
  assert.deepEqual([c!.seedsAgree, c!.seeds], [2, 3], "seeds 0 and 1 agree, seed 2 does not");
  assert.equal(c!.withinNoise, true);
});

Deno.test("evaluateClaims() takes the best-mean score of a list, in the metric's better direction", () => {
  const claims = (metric: "auroc" | "fpr95") => ({
    id: metric,
    text: "a better score",
    before: { method: "ce", score: ["msp", "energy"] },
    after: { method: "um", score: ["msp", "knn", "odin"] },
    metric,
  });
  const [auroc, fpr] = evaluateClaims(rows(), [claims("auroc"), claims("fpr95")]);
  assert.deepEqual([auroc!.before, auroc!.after], ["CE + msp", "UM + knn"], "highest AUROC; odin has no rows");
  close(auroc!.afterMean, 0.95, "knn");
  assert.equal(auroc!.seedsAgree, 3);
  assert.deepEqual([fpr!.before, fpr!.after], ["CE + msp", "UM + knn"], "lowest FPR95");
  close(fpr!.afterMean, 0.05, "knn FPR95");
  assert.equal(fpr!.holds, true);
  const one = evaluateClaims(rows().filter((r) => r.seed === 0), [claims("auroc")]);
  assert.deepEqual([one[0]!.beforeStd, one[0]!.withinNoise, one[0]!.seeds], [null, null, 1], "a single seed");
  assert.deepEqual(evaluateClaims(rows(), [{ ...claims("auroc"), after: { method: "cider" } }]), [], "no rows");
});

Deno.test("claimsTable(), claimsMarkdown() and deviationsView() render every result and deviation", () => {
  const results = evaluateClaims(rows(), [{
    id: "um",
    text: "UM raises AUROC",
    before: { method: "ce" },
    after: { method: "um" },
    metric: "auroc",
  }]);
  const t = claimsTable(results);
  assert.equal(t.rows.length, 1);
  assert.equal(t.cell(0, "answer").text, "yes (within seed noise)");
  assert.equal(t.cell(0, "agree").text, "2/3");
  const md = String(bundleOf(claimsMarkdown(results))["text/markdown"]);
  assert.match(md, /\*\*mnist · lenet: UM raises AUROC \(UM \+ msp vs CE \+ msp\)\? Yes\*\* \(within seed noise\)/);
  assert.match(md, /better on 2 of 3 seeds/);
  assert.match(String(bundleOf(claimsMarkdown([]))["text/markdown"]), /No runs/);
  const d = deviationsView([{ id: "odin", paper: "T, ε tuned on OOD data", ours: "CIFAR defaults" }, {
    id: "sel",
    paper: "max over test",
    ours: "last",
    variant: "clean",
  }]);
  assert.deepEqual(
    d.rows.map((_, i) => [d.cell(i, "id").text, d.cell(i, "variant").text]),
    [
      ["odin", "all"],
      ["sel", "clean"],
    ],
  );
  assert.match(d.toHTML(), /Deviations from the paper/);
});
