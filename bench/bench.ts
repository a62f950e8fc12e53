/**
 * `deno task bench [net... | metrics] [--engines=a,b] [--phases=train,infer] [--rounds=N] [--threads=N]
 *   [--budget=SECONDS] [--no-torch]`
 *
 * Training (forward + backward + SGD step) and inference images/s of backbones from lib/backbones at batch 128
 * (smaller for the widest nets) on every TF.js engine that starts here, next to the same networks in PyTorch
 * (Debian python3-torch, bench/torch_bench.py) on the same cores, measured in the same run, one process per
 * measurement. Default engines: every one but the stock `cpu` (minutes per conv training step), with WebGPU only on
 * a hardware adapter; `--engines=…` names them (then a software WebGPU adapter counts too). With no arguments it
 * runs the three original rows — LeNet (28×28×1), ResNet-20 and ResNet-18 (32×32×3) — and the metrics suite;
 * name rows to run others (`deno task bench densenet_bc_100 wrn_40_2`); see `NETS` for the list (`<name>_w<width>`
 * rows are narrow variants). A row that does not fit in the wasm heap falls back to smaller batches; the batch used
 * is printed. Prints the ratio ours / PyTorch (PyTorch's faster
 * memory format), warns if the two sides' trainable parameter counts differ, and merges the rows into
 * bench/out/latest.json. With `--rounds=N` every measurement is repeated N times, alternating engines and
 * PyTorch, and the median round is kept (this VM's timings vary by ±30 % run to run).
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ENGINE_NAMES, type EngineName } from "@lib/engine/mod.ts";
import { writeFileAtomic } from "@lib/io/atomic.ts";
import { benchMetrics } from "./metrics.ts";

/** One row of bench/out/latest.json. */
export interface BenchRow {
  net: string;
  phase: "train" | "infer";
  batch: number;
  engine: string;
  imagesPerSec: number;
  msPerBatch: number;
  threads: number;
  detail: string;
  date: string;
  /** Images/s of every round; `imagesPerSec` is their median. */
  rounds?: number[];
  /** Trainable parameters of the network as built (TF.js) or `net.parameters()` (PyTorch). */
  params?: number;
}

/** A benchmark row: which backbone, with which options, how many timed repetitions, which batches to try. */
interface NetSpec {
  backbone: string;
  options?: Record<string, unknown>;
  reps: number;
  /** Batches to try in order (the next when the previous one fails, e.g. out of wasm heap). @default [128, 96, 64, 32] */
  batches?: readonly number[];
  /** Part of the no-argument run. */
  default?: boolean;
}

/** Every benchmark row; `deno task bench` alone runs the `default` ones. */
export const NETS = {
  lenet: { backbone: "lenet", reps: 10, default: true },
  resnet20: { backbone: "resnet20", reps: 5, default: true },
  resnet18: { backbone: "resnet18", reps: 3, default: true },
  "resnet18_w0.25": { backbone: "resnet18", options: { width: 0.25 }, reps: 5 },
  "resnet18_w0.5": { backbone: "resnet18", options: { width: 0.5 }, reps: 3 },
  resnet34: { backbone: "resnet34", reps: 2 },
  densenet_bc_100: { backbone: "densenet_bc_100", reps: 2 },
  "densenet_bc_100_w0.5": { backbone: "densenet_bc_100", options: { width: 0.5 }, reps: 3 },
  wrn_40_2: { backbone: "wrn_40_2", reps: 3 },
  wrn_28_10: { backbone: "wrn_28_10", reps: 2, batches: [64, 32] },
  "wrn_28_10_w0.25": { backbone: "wrn_28_10", options: { width: 0.25 }, reps: 3 },
  vgg16_bn: { backbone: "vgg16_bn", reps: 3 },
  "vgg16_bn_w0.25": { backbone: "vgg16_bn", options: { width: 0.25 }, reps: 5 },
  vmdls_vgg: { backbone: "vmdls_vgg", reps: 3 },
  lenet5: { backbone: "lenet5", reps: 10 },
  mnist_conv: { backbone: "mnist_conv", reps: 3 },
  cmg_cnn: { backbone: "cmg_cnn", reps: 3 },
} as const satisfies Record<string, NetSpec>;
type Net = keyof typeof NETS;
const spec = (net: Net): NetSpec => NETS[net];
const BATCHES = [128, 96, 64, 32] as const;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = join(ROOT, "bench", "out", "latest.json");

interface Options {
  nets: Net[];
  metrics: boolean;
  engines: EngineName[];
  /** `--engines` was given: a software WebGPU adapter is then benchmarked too. */
  namedEngines: boolean;
  threads: number;
  budgetSeconds: number;
  torch: boolean;
  rounds: number;
  phases: Phase[];
}

type Phase = "train" | "infer";
const PHASES: readonly Phase[] = ["train", "infer"];

function parseArgs(args: string[]): Options {
  const flags = new Map<string, string>();
  const nets: Net[] = [];
  let metrics = false;
  for (const a of args) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (m) flags.set(m[1]!, m[2] ?? "");
    else if (Object.hasOwn(NETS, a)) nets.push(a as Net);
    else if (a === "metrics") metrics = true;
    else throw new Error(`Unknown suite "${a}". Valid: ${[...Object.keys(NETS), "metrics"].join(", ")}`);
  }
  const everything = nets.length === 0 && !metrics;
  const defaults = (Object.keys(NETS) as Net[]).filter((n) => spec(n).default);
  // The stock cpu engine (minutes per conv training step) runs only when named.
  const engines = (flags.get("engines")?.split(",") ?? ENGINE_NAMES.filter((e) => e !== "cpu")).map((e) => {
    if (!(ENGINE_NAMES as readonly string[]).includes(e)) {
      throw new Error(`Unknown engine "${e}". Valid: ${ENGINE_NAMES.join(", ")}`);
    }
    return e as EngineName;
  });
  return {
    nets: everything ? defaults : nets,
    metrics: everything || metrics,
    engines,
    namedEngines: flags.has("engines"),
    threads: Number(flags.get("threads") ?? navigator.hardwareConcurrency),
    budgetSeconds: Number(flags.get("budget") ?? 300),
    torch: !flags.has("no-torch"),
    rounds: Number(flags.get("rounds") ?? 1),
    phases: (flags.get("phases")?.split(",") ?? [...PHASES]).map((p) => {
      if (!(PHASES as readonly string[]).includes(p)) {
        throw new Error(`Unknown phase "${p}". Valid: ${PHASES.join(", ")}`);
      }
      return p as Phase;
    }),
  };
}

interface Run {
  ok: boolean;
  lines: Record<string, unknown>[];
  error: string;
}

async function runProcess(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  budgetSeconds: number,
): Promise<Run> {
  const child = new Deno.Command(cmd, { args, env, cwd: ROOT, stdout: "piped", stderr: "piped" }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), budgetSeconds * 1000);
  const out = await child.output();
  clearTimeout(timer);
  const text = new TextDecoder().decode(out.stdout);
  const lines = text.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
  const stderr = new TextDecoder().decode(out.stderr).trim().split("\n");
  const error = out.signal === "SIGKILL"
    ? `timed out after ${budgetSeconds} s`
    : stderr.find((l) => /error|Error|Aborted/.test(l)) ?? stderr[stderr.length - 1] ?? `exit ${out.code}`;
  return { ok: out.success && lines.length > 0, lines, error };
}

const now = new Date().toISOString();

async function tfjsRow(
  engine: EngineName,
  net: Net,
  phase: "train" | "infer",
  opts: Options,
): Promise<BenchRow | string> {
  const { backbone, options = {}, reps, batches = BATCHES } = spec(net);
  let lastError = "";
  for (const batch of batches) {
    const run = await runProcess(
      Deno.execPath(),
      [
        "run",
        "-A",
        "bench/tfjs_step.ts",
        engine,
        backbone,
        phase,
        String(batch),
        String(reps),
        JSON.stringify(options),
      ],
      { OOD_THREADS: String(opts.threads), NO_COLOR: "1", OOD_BENCH_SOFTWARE_WEBGPU: opts.namedEngines ? "1" : "0" },
      engine === "cpu" ? Math.min(opts.budgetSeconds, 120) : opts.budgetSeconds,
    );
    if (run.ok) {
      const r = run.lines[0]!;
      const ms = r.msPerBatch as number;
      return {
        net,
        phase,
        batch,
        engine,
        imagesPerSec: batch / ms * 1000,
        msPerBatch: ms,
        threads: r.threads as number,
        detail: r.description as string,
        date: now,
        params: r.params as number,
      };
    }
    lastError = run.error;
    if (/not available/.test(run.error)) return run.error.replace(/^.*not available: /, "not available: ");
    if (/timed out/.test(run.error)) return run.error;
  }
  return lastError;
}

async function torchRows(net: Net, batch: Record<"train" | "infer", number>, opts: Options): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const phase of opts.phases) {
    const { backbone, options = {}, reps } = spec(net);
    const args = ["bench/torch_bench.py", backbone, String(batch[phase]), phase === "train" ? String(reps) : "0"];
    const run = await runProcess(
      "/usr/bin/python3",
      [...args, String(reps), String(opts.threads), JSON.stringify(options)],
      {},
      opts.budgetSeconds,
    );
    if (!run.ok) {
      console.error(`pytorch ${net} ${phase}: ${run.error}`);
      continue;
    }
    const key = phase === "train" ? "trainMs" : "inferMs";
    const best = run.lines.reduce((a, b) => ((b[key] as number) < (a[key] as number) ? b : a));
    const ms = best[key] as number;
    rows.push({
      net,
      phase,
      batch: batch[phase],
      engine: "pytorch",
      imagesPerSec: batch[phase] / ms * 1000,
      msPerBatch: ms,
      threads: best.threads as number,
      detail: `torch ${best.version} ${best.format} (faster of NCHW / channels_last)`,
      date: now,
      params: best.params as number,
    });
  }
  return rows;
}

function printTable(rows: BenchRow[], skipped: string[]): void {
  const torch = new Map(rows.filter((r) => r.engine === "pytorch").map((r) => [`${r.net}/${r.phase}`, r]));
  console.log(`\n${"net".padEnd(21)} phase  batch  engine    img/s     pytorch img/s  ours/pytorch`);
  for (const r of rows.filter((r) => r.engine !== "pytorch")) {
    const t = torch.get(`${r.net}/${r.phase}`);
    const ratio = t && t.batch === r.batch ? (r.imagesPerSec / t.imagesPerSec).toFixed(2) : t ? "(other batch)" : "-";
    console.log(
      `${r.net.padEnd(21)} ${r.phase.padEnd(6)} ${String(r.batch).padEnd(6)} ${r.engine.padEnd(9)} ` +
        `${r.imagesPerSec.toFixed(1).padStart(8)}  ${
          t ? t.imagesPerSec.toFixed(1).padStart(13) : "            -"
        }  ${ratio}`,
    );
    if (t?.params !== undefined && r.params !== undefined && t.params !== r.params) {
      console.log(`  WARNING: ${r.net} has ${r.params} trainable parameters in TF.js but ${t.params} in PyTorch`);
    }
  }
  for (const s of skipped) console.log(`  ${s}`);
}

async function mergeInto(path: string, rows: BenchRow[]): Promise<void> {
  let old: BenchRow[] = [];
  try {
    old = JSON.parse(await Deno.readTextFile(path)) as BenchRow[];
  } catch { /* first run */ }
  const key = (r: BenchRow) => `${r.net}/${r.phase}/${r.engine}`;
  const fresh = new Set(rows.map(key));
  await writeFileAtomic(path, JSON.stringify([...old.filter((r) => !fresh.has(key(r))), ...rows], null, 1) + "\n");
}

/** Keeps, per (net, phase, engine), the row of the median round, with every round's img/s attached. */
export function medianRounds(rows: BenchRow[]): BenchRow[] {
  const groups = new Map<string, BenchRow[]>();
  for (const r of rows) {
    const k = `${r.net}/${r.phase}/${r.engine}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const sorted = g.slice().sort((a, b) => a.imagesPerSec - b.imagesPerSec);
    return { ...sorted[Math.floor((sorted.length - 1) / 2)]!, rounds: g.map((r) => +r.imagesPerSec.toFixed(1)) };
  });
}

async function main(): Promise<void> {
  const opts = parseArgs(Deno.args);
  const all: BenchRow[] = [];
  const skipped = new Set<string>();
  for (let round = 1; round <= opts.rounds; round++) {
    for (const net of opts.nets) {
      const first = spec(net).batches?.[0] ?? BATCHES[0];
      const batchUsed = { train: first, infer: first };
      for (const engine of opts.engines) {
        for (const phase of opts.phases) {
          const r = await tfjsRow(engine, net, phase, opts);
          if (typeof r === "string") {
            skipped.add(`${engine} ${net} ${phase}: ${r}`);
            if (r.startsWith("not available")) break;
            continue;
          }
          all.push(r);
          if (engine === "native" || (engine === "wasm" && !all.some((x) => x.engine === "native"))) {
            batchUsed[phase] = r.batch;
          }
          console.error(`round ${round}: ${engine} ${net} ${phase} b${r.batch}: ${r.imagesPerSec.toFixed(1)} img/s`);
        }
      }
      if (opts.torch) all.push(...await torchRows(net, batchUsed, opts));
    }
  }
  if (opts.nets.length) {
    const rows = medianRounds(all);
    printTable(rows, [...skipped]);
    await mergeInto(OUT, rows);
    console.log(`\nwrote ${OUT}`);
  }
  if (opts.metrics) {
    const rows = await benchMetrics();
    console.log("\nmetrics (median ms):");
    for (const r of rows) console.log(`  ${r.name.padEnd(42)} n=${r.n}  ${r.ms.toFixed(1)} ms`);
    const path = join(ROOT, "bench", "out", "metrics.json");
    await writeFileAtomic(path, JSON.stringify(rows.map((r) => ({ ...r, date: now })), null, 1) + "\n");
    console.log(`wrote ${path}`);
  }
}

if (import.meta.main) await main();
