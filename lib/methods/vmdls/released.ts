/**
 * VMDLS with the authors' released weights (`weights: "released"`, `OOD_WEIGHTS=released`): no training; each
 * released network (`lib/checkpoints/released/vmdls.ts`) is read with the safe checkpoint reader, its `state_dict`
 * copied into our `vmdlsNet` by name, and it is scored exactly as a network trained here (`evaluateRun`: the
 * feature-ensemble Gaussians fitted on training images, the reconstruction weighting with the released MNIST
 * auto-encoder, our metrics, and the reference's own grid metrics). What is absent is reported with the command
 * that fetches it, and nothing that needs it runs.
 *
 * The ensemble: the reference concatenates `get_layer_output(x, 1..4)` and μ (`models/vae.py` l. 291). In our
 * networks' `featureList` = [stages…, μ] that is, per encoder ({@linkcode VMDLS_ENCODERS}): mnist-conv and VGG all
 * members; DenseNet [after transition 1, after transition 2, final BN-ReLU, g = its GAP again, μ]; ResNet-18
 * [stages 1-4 (the 4th is g), μ] (our stem is left out); WRN [group 1, group 2, g, g, μ] (its `get_layer_output`
 * returns `forward` for layers 3 and 4).
 * @module
 */
import { type BackboneName, createBackbone } from "../../backbones/mod.ts";
import { NORMALIZATION } from "../../datasets/normalization.ts";
import { DatasetMissingError } from "../../datasets/errors.ts";
import type { DatasetName } from "../../datasets/registry.ts";
import { availableDatasets, type EvalSets, loadEvalSets } from "../../experiment/eval_sets.ts";
import { findStateDict, loadStateDict } from "../../checkpoints/load_state_dict.ts";
import {
  VMDLS_RELEASED,
  VMDLS_RELEASED_NETWORKS,
  type VmdlsEncoderArch,
  type VmdlsEncType,
  vmdlsMnistAeMap,
  vmdlsNetMap,
  type VmdlsReleasedNetwork,
} from "../../checkpoints/released/vmdls.ts";
import {
  missingReleasedMessage,
  releasedFilePath,
  releasedPaperDir,
  releasedPresent,
} from "../../checkpoints/released/paths.ts";
import type { ReleasedFile } from "../../checkpoints/released/types.ts";
import { readTorchCheckpoint } from "../../io/torch/mod.ts";
import { type PickleValue, TorchCheckpointError } from "../../io/torch/types.ts";
import { displayLabel, Timings } from "../../report/results.ts";
import { type Autoencoder, mnistAutoencoder } from "./autoencoder.ts";
import type { VmdlsConfig, VmdlsSetting } from "./config.ts";
import { disposeVmdlsNet, type VmdlsNet, vmdlsNet } from "./network.ts";
import { evaluateRun, type VmdlsExperiment, type VmdlsRun } from "./run.ts";

/** Our network for each `--enc_type`: registry backbone, the reference's ensemble members, extra options. */
export const VMDLS_ENCODERS: Readonly<
  Record<VmdlsEncType, { backbone: BackboneName; members: readonly number[] | null; options?: { dropRate: number } }>
> = {
  "mnist-conv": { backbone: "mnist_conv", members: null },
  densenet: { backbone: "densenet_bc_100", members: [1, 2, 3, 3, 4] },
  resnet18: { backbone: "resnet18", members: [1, 2, 3, 4, 5] },
  vgg: { backbone: "vmdls_vgg", members: null },
  // WideResNet(28, class_num, 10, 0.1): dropout 0.1 (off in inference here; the reference keeps it on).
  wresnet: { backbone: "wrn_28_10", members: [1, 2, 3, 3, 4], options: { dropRate: 0.1 } },
};

/** Options of {@linkcode loadReleasedVmdlsNet}. */
export interface LoadReleasedNetOptions {
  encType: VmdlsEncType;
  latentDim: number;
  numClasses: number;
  /** Backbone width (1 = the released networks; narrow fixtures pass theirs). @default 1 */
  width?: number;
  /** Extra backbone options (e.g. a fixture's `depth`). */
  backboneOptions?: Record<string, unknown>;
  /** The map's architecture parameters (defaults: the released networks). */
  arch?: VmdlsEncoderArch;
}

/** A hyper-parameter of a Lightning checkpoint (`hyper_parameters`), or undefined. */
export function lightningHparam(root: PickleValue, name: string): PickleValue | undefined {
  if (!(root instanceof Map)) return undefined;
  const h = root.get("hyper_parameters");
  if (h instanceof Map) return h.get(name);
  if (h && typeof h === "object" && "kind" in h && h.kind === "object" && h.state instanceof Map) {
    return h.state.get(name);
  }
  return undefined;
}

/**
 * Reads a released VMDLS checkpoint into a new `vmdlsNet` (the caller frees it with `disposeVmdlsNet`). The
 * Lightning `hyper_parameters` are checked when present: a checkpoint of another `--enc_type` or latent size is
 * refused by name before any weight is read.
 * @throws TorchCheckpointError naming the file: unreadable, another network, missing or unexpected keys.
 */
export async function loadReleasedVmdlsNet(
  file: string,
  opts: LoadReleasedNetOptions,
): Promise<{ net: VmdlsNet; ignored: string[] }> {
  const root = await readTorchCheckpoint(file);
  const encType = lightningHparam(root, "enc_type"), latent = lightningHparam(root, "latent_dim");
  if (typeof encType === "string" && encType !== opts.encType) {
    throw new TorchCheckpointError(file, `is a --enc_type ${encType} checkpoint, expected ${opts.encType}`);
  }
  if (typeof latent === "number" && latent !== opts.latentDim) {
    throw new TorchCheckpointError(file, `has latent_dim ${latent}, expected ${opts.latentDim}`);
  }
  const stateDict = findStateDict(root, file);
  const enc = VMDLS_ENCODERS[opts.encType];
  const grey = opts.encType === "mnist-conv";
  const backbone = createBackbone(enc.backbone, {
    numClasses: opts.numClasses,
    width: opts.width ?? 1,
    normalization: grey ? NORMALIZATION.mnistHalf : NORMALIZATION.cifarVmdls,
    ...enc.options,
    ...opts.backboneOptions,
  } as never);
  const net = vmdlsNet(backbone, { latentDim: opts.latentDim });
  try {
    const ignored = loadStateDict([net.model], stateDict, vmdlsNetMap(opts.encType, opts.arch), file);
    return { net, ignored };
  } catch (e) {
    disposeVmdlsNet(net);
    throw e;
  }
}

/**
 * Reads the released MNIST auto-encoder (`ae_mnist.ckpt`) into a new `mnistAutoencoder` (the caller disposes
 * `ae.model`).
 * @param opts Width and code size (released: 1 and 32).
 */
export async function loadReleasedMnistAe(
  file: string,
  opts: { width?: number; latentDim?: number } = {},
): Promise<Autoencoder> {
  const root = await readTorchCheckpoint(file);
  const stateDict = findStateDict(root, file);
  const ae = mnistAutoencoder({ width: opts.width ?? 1, latentDim: opts.latentDim ?? 32 });
  const channels = ae.model.layers.find((l) => l.getClassName() === "Conv2D")?.getConfig().filters as number;
  try {
    loadStateDict([ae.model], stateDict, vmdlsMnistAeMap({ channels }), file);
    return ae;
  } catch (e) {
    ae.model.dispose();
    throw e;
  }
}

/** The result files' name of a released-weights run, kept apart from the trained runs' `vmdls.*`. */
export const VMDLS_RELEASED_RESULTS = "vmdls_released";

/**
 * The `runManifest` name option of a config's run: `{ name: "vmdls_released" }` for the released weights, else
 * none (the default name).
 */
export function vmdlsResultsName(cfg: Pick<VmdlsConfig, "weights">): { name?: string } {
  return cfg.weights === "released" ? { name: VMDLS_RELEASED_RESULTS } : {};
}

/** What the released run did, or what it needs. */
export interface VmdlsReleasedOutcome {
  /** `ok`: every requested network was evaluated; `missing`: files or data are absent (nothing ran). */
  status: "ok" | "missing";
  /** What to download (released files: URL and command; datasets: `deno task data …`), or null. */
  message: string | null;
  /** The evaluated networks: checkpoint id, the files read and how many of their keys were ignored. */
  networks: { id: string; files: string[]; ignoredKeys: number }[];
}

/** The released-run experiment: the runs and rows of the authors' networks, and the outcome. */
export type VmdlsReleasedExperiment = VmdlsExperiment & { released: VmdlsReleasedOutcome };

/** The setting a released network is evaluated in (width 1, its README command's D). */
export function releasedSetting(cfg: VmdlsConfig, n: VmdlsReleasedNetwork): VmdlsSetting {
  const enc = VMDLS_ENCODERS[n.encType];
  const mnist = n.idDataset === "mnist";
  return {
    idDataset: n.idDataset,
    backbone: enc.backbone,
    width: cfg.released?.narrow?.width ?? 1,
    latentDim: cfg.released?.narrow?.latentDim ?? n.latentDim,
    classNum: null,
    reconstruction: n.autoencoder !== null,
    oodDatasets: mnist ? cfg.oodDatasets : cfg.released?.cifarOodDatasets ?? [],
    methods: ["vmdls"],
  };
}

const entryOf = (id: string): ReleasedFile => {
  const e = VMDLS_RELEASED.find((f) => f.id === id);
  if (!e) throw new Error(`VMDLS has no released file "${id}"`);
  return e;
};

/**
 * The released-weights run of the notebook: for each `cfg.released.networks`, load the sets (the Gaussians' fit
 * set, held-out, ID test and OOD sets), the network and its auto-encoder, and score them with `evaluateRun`
 * (variants and ablations of the config). Absent files or data: `status: "missing"`, the message, no runs.
 */
export async function runVmdlsReleased(cfg: VmdlsConfig): Promise<VmdlsReleasedExperiment> {
  const r = cfg.released;
  if (!r) throw new Error('runVmdlsReleased: the config has no "released" options');
  const root = r.root ?? undefined;
  const timings = new Timings();
  const empty = (message: string): VmdlsReleasedExperiment => ({
    sets: [],
    runs: [],
    rows: [],
    timings,
    skipped: [],
    autoencoders: [],
    released: { status: "missing", message, networks: [] },
  });
  const networks = r.networks.map((id) => {
    const n = VMDLS_RELEASED_NETWORKS[id];
    if (!n) throw new Error(`VMDLS has no released network "${id}"`);
    return n;
  });
  const needed = [...new Set(networks.flatMap((n) => [n.id, ...(n.autoencoder ? [n.autoencoder] : [])]))]
    .map(entryOf);
  const absent: ReleasedFile[] = [];
  for (const e of needed) if (!(await releasedPresent(e, root))) absent.push(e);
  if (absent.length > 0) {
    // The message names the folder actually searched when the config gives one.
    const message = missingReleasedMessage(absent, root);
    return empty(root ? message.split(releasedPaperDir("vmdls")).join(releasedPaperDir("vmdls", root)) : message);
  }
  const { available, missing } = await availableDatasets(cfg.optionalOodDatasets);
  const exp: VmdlsReleasedExperiment = { ...empty(""), released: { status: "ok", message: null, networks: [] } };
  exp.skipped = missing;
  for (const [i, n] of networks.entries()) {
    const setting = releasedSetting(cfg, n);
    let sets: EvalSets;
    try {
      sets = await timings.time("data", () =>
        loadEvalSets({
          id: n.idDataset,
          dataSeed: cfg.dataSeed,
          trainLimit: r.trainLimit,
          heldOut: r.heldOut,
          testLimit: r.nTest,
          oodDatasets: [...(setting.oodDatasets ?? []), ...(n.idDataset === "mnist" ? available : [])] as DatasetName[],
          oodLimit: r.nOod,
        }));
    } catch (e) {
      if (e instanceof DatasetMissingError) return { ...empty(e.message), timings };
      throw e;
    }
    const netFile = releasedFilePath(entryOf(n.id), undefined, root);
    const aeFile = n.autoencoder ? releasedFilePath(entryOf(n.autoencoder), undefined, root) : null;
    const t0 = performance.now();
    const narrow = r.narrow;
    const round = (c: number) => Math.max(1, Math.round(c * (narrow?.width ?? 1)));
    const { net, ignored } = await loadReleasedVmdlsNet(netFile, {
      encType: n.encType,
      latentDim: setting.latentDim,
      numClasses: sets.train.classes.length,
      width: setting.width,
      arch: { channels: round(100), vggChannels: round(256) },
    });
    let ae: Autoencoder | null = null;
    try {
      ae = aeFile ? await loadReleasedMnistAe(aeFile, narrow ?? {}) : null;
      const cell = { setting, settingIndex: i, seed: 0, variant: "none" as const, method: "vmdls" as const };
      const name = `VMDLS, authors' ${n.id}`;
      const { rows, result } = await evaluateRun(cfg, cell, sets, net, ae, {
        curve: [],
        steps: 0,
        trainSeconds: 0,
        label: displayLabel(name),
        rowLabel: (score, variant) => displayLabel(score === "vmdls" ? name : `${name}, ${score}`, variant),
      }, VMDLS_ENCODERS[n.encType].members);
      const run: VmdlsRun = { ...cell, rows, result, seconds: (performance.now() - t0) / 1000 };
      exp.sets.push(sets);
      exp.runs.push(run);
      exp.rows.push(...rows);
      exp.autoencoders.push(null);
      exp.released.networks.push({
        id: n.id,
        files: [netFile, ...(aeFile ? [aeFile] : [])],
        ignoredKeys: ignored.length,
      });
    } finally {
      disposeVmdlsNet(net);
      ae?.model.dispose();
    }
  }
  return exp;
}
