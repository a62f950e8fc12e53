/**
 * Published numbers of a paper, from a cited data file `lib/report/paper_numbers/<paper>.json`
 * (format: `lib/report/paper_numbers/README.md`).
 *
 * ```json
 * { "paper": "cider", "citation": "Ming et al., How to Exploit Hyperspherical Embeddings for OOD Detection?, ICLR 2023",
 *   "url": "https://arxiv.org/abs/2203.04450", "scale": "percent",
 *   "defaults": { "idDataset": "cifar10", "backbone": "resnet18" },
 *   "numbers": [ { "method": "CIDER", "oodDataset": "SVHN", "metric": "fpr95", "value": 2.89, "source": "Table 1" },
 *                { "method": "CIDER", "oodDataset": "LSUN", "metric": "auroc", "value": null, "source": "Table 1",
 *                  "note": "not reported" } ] }
 * ```
 * Every number names its `source` (table / figure / page of the paper). Values are written as printed
 * (`scale: "percent"`) or as fractions, and are converted to fractions on load; `null` is an empty cell.
 * @module
 */
import { join } from "node:path";
import { METRIC_COLUMNS, type MetricColumn } from "./results.ts";

/** The fields that say what a published number is about. `method`, `oodDataset` and `metric` are required. */
export interface PaperNumberKey {
  method: string;
  score?: string;
  backbone?: string;
  idDataset?: string;
  oodDataset: string;
  metric: MetricColumn;
}

/** One published number, as a fraction (or null for an empty cell), with its source in the paper. */
export interface PaperNumber extends PaperNumberKey {
  value: number | null;
  /** Where in the paper: "Table 1", "Fig. 3", "p. 7". Required. */
  source: string;
  note?: string;
}

/** A loaded paper-numbers file. */
export interface PaperNumbers {
  paper: string;
  /** Full reference of the paper the numbers come from. */
  citation: string;
  url?: string;
  numbers: PaperNumber[];
}

/** The folder of the committed paper-numbers files. */
export const PAPER_NUMBERS_DIR: string = new URL("./paper_numbers/", import.meta.url).pathname;

/**
 * Parses and validates a paper-numbers document; values are converted to fractions.
 *
 * @param doc The parsed JSON.
 * @param where Named in error messages (e.g. the file path).
 * @throws Error naming the file and the entry for a missing/invalid field, an unknown metric (listing the
 *   valid ones), a missing source, or a value out of range for the file's scale.
 */
export function parsePaperNumbers(doc: unknown, where = "paper numbers"): PaperNumbers {
  const fail = (msg: string): never => {
    throw new Error(`${where}: ${msg}`);
  };
  if (typeof doc !== "object" || doc === null) fail("not a JSON object");
  const d = doc as Record<string, unknown>;
  for (const k of ["paper", "citation"]) {
    if (typeof d[k] !== "string" || !d[k]) fail(`"${k}" must be a non-empty string`);
  }
  if (d.scale !== "percent" && d.scale !== "fraction") fail(`"scale" must be "percent" or "fraction"`);
  if (!Array.isArray(d.numbers)) fail(`"numbers" must be an array`);
  const defaults = (d.defaults ?? {}) as Record<string, unknown>;
  const scale = d.scale === "percent" ? 100 : 1;
  const numbers = (d.numbers as unknown[]).map((raw, i): PaperNumber => {
    const n = { ...defaults, ...(raw as Record<string, unknown>) };
    const at = `numbers[${i}]`;
    for (const k of ["method", "oodDataset", "source"]) {
      if (typeof n[k] !== "string" || !n[k]) fail(`${at}: "${k}" must be a non-empty string`);
    }
    for (const k of ["score", "backbone", "idDataset", "note"]) {
      if (n[k] !== undefined && typeof n[k] !== "string") fail(`${at}: "${k}" must be a string`);
    }
    if (!(METRIC_COLUMNS as readonly unknown[]).includes(n.metric)) {
      fail(`${at}: unknown metric "${n.metric}". Valid metrics: ${METRIC_COLUMNS.join(", ")}.`);
    }
    const v = n.value;
    if (v !== null && (typeof v !== "number" || !(v >= 0 && v <= scale))) {
      fail(`${at}: value ${JSON.stringify(v)} must be null or a number in [0, ${scale}] (scale "${d.scale}")`);
    }
    return {
      method: n.method as string,
      oodDataset: n.oodDataset as string,
      metric: n.metric as MetricColumn,
      value: v === null ? null : (v as number) / scale,
      source: n.source as string,
      ...(n.score !== undefined ? { score: n.score as string } : {}),
      ...(n.backbone !== undefined ? { backbone: n.backbone as string } : {}),
      ...(n.idDataset !== undefined ? { idDataset: n.idDataset as string } : {}),
      ...(n.note !== undefined ? { note: n.note as string } : {}),
    };
  });
  return {
    paper: d.paper as string,
    citation: d.citation as string,
    ...(typeof d.url === "string" ? { url: d.url } : {}),
    numbers,
  };
}

/**
 * Loads `lib/report/paper_numbers/<paper>.json`, or a path ending in `.json`.
 *
 * @param paperOrPath A paper id (`"cider"`) or a file path.
 */
export async function loadPaperNumbers(paperOrPath: string): Promise<PaperNumbers> {
  const path = paperOrPath.endsWith(".json") ? paperOrPath : join(PAPER_NUMBERS_DIR, `${paperOrPath}.json`);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`No paper numbers at ${path}: ${(e as Error).message}`);
  }
  return parsePaperNumbers(JSON.parse(text), path);
}
