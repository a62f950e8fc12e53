/**
 * Fused kernels that TF.js lacks, with their gradients: batch normalisation in training mode.
 *
 * Kernel `OodBatchNormTrain`: inputs `{x, scale, offset}` (channels last), attr `epsilon` →
 * `[y, mean, variance]` (biased batch variance). Its gradient runs `OodBatchNormTrainGrad`:
 * inputs `{dy, x, scale, mean, variance}`, attr `epsilon` → `[dx, dScale, dOffset]`.
 * Only `y` carries a gradient; `mean` and `variance` exist for the running statistics.
 *
 * The JS implementation here serves the `cpu` backend and the wasm backend (working directly on the wasm
 * heap); the `native` engine registers C versions of the same two kernels over these.
 * @module
 */
import { type TensorInfo, tf } from "../../tf.ts";
import { type AnyBackend, type KernelArgs, replaceKernel, sizeOf } from "../kernels.ts";
import { batchNormApply, batchNormBackward, batchNormStats } from "./batch_norm_math.ts";
import { heapF32 } from "../wasm/shared.ts";

export const BATCH_NORM_TRAIN = "OodBatchNormTrain";
export const BATCH_NORM_TRAIN_GRAD = "OodBatchNormTrainGrad";

/** How a backend exposes tensor memory as Float32Arrays. */
interface HostMemory {
  /** A view (or the backing array) of a float32 tensor's values. */
  read(backend: AnyBackend, t: TensorInfo): Float32Array;
  /** Allocates float32 outputs; returns them with writable views (taken after every allocation). */
  alloc(backend: AnyBackend, shapes: number[][]): { infos: TensorInfo[]; views: Float32Array[] };
}

const HOST_MEMORY: Record<"cpu" | "wasm", HostMemory> = {
  cpu: {
    read: (backend, t) => backend.data.get(t.dataId).values as Float32Array,
    alloc: (backend, shapes) => {
      const views = shapes.map((s) => new Float32Array(sizeOf(s)));
      const infos = shapes.map((s, i) => backend.makeTensorInfo(s, "float32", views[i]) as TensorInfo);
      return { infos, views };
    },
  },
  wasm: {
    read: (backend, t) => heapF32(backend, t),
    alloc: (backend, shapes) => {
      // Allocation can grow the wasm heap and detach earlier views, so views come after all allocations.
      const infos = shapes.map((s) => backend.makeOutput(s, "float32") as TensorInfo);
      return { infos, views: infos.map((t) => heapF32(backend, t)) };
    },
  },
};

function checkFloat(kernel: string, inputs: Record<string, TensorInfo | undefined>): Record<string, TensorInfo> {
  for (const [name, t] of Object.entries(inputs)) {
    if (!t) throw new Error(`${kernel}: missing input ${name}`);
    if (t.dtype !== "float32") throw new Error(`${kernel}: input ${name} must be float32, got ${t.dtype}`);
  }
  return inputs as Record<string, TensorInfo>;
}

function channelsOf(kernel: string, x: TensorInfo, params: TensorInfo[]): number {
  const c = x.shape[x.shape.length - 1]!;
  for (const p of params) {
    if (p.shape.length !== 1 || p.shape[0] !== c) {
      throw new Error(`${kernel}: per-channel inputs must have shape [${c}], got [${p.shape}]`);
    }
  }
  return c;
}

function trainKernel(memory: HostMemory) {
  return ({ inputs, attrs, backend }: KernelArgs): TensorInfo[] => {
    const { x, scale, offset } = checkFloat(BATCH_NORM_TRAIN, inputs);
    const channels = channelsOf(BATCH_NORM_TRAIN, x!, [scale!, offset!]);
    const { infos, views } = memory.alloc(backend, [x!.shape, [channels], [channels]]);
    const [y, mean, variance] = views as [Float32Array, Float32Array, Float32Array];
    const xs = memory.read(backend, x!);
    batchNormStats(xs, channels, mean, variance);
    const epsilon = attrs.epsilon as number;
    batchNormApply(
      xs,
      channels,
      mean,
      variance,
      memory.read(backend, scale!),
      memory.read(backend, offset!),
      epsilon,
      y,
    );
    return infos;
  };
}

function gradKernel(memory: HostMemory) {
  return ({ inputs, attrs, backend }: KernelArgs): TensorInfo[] => {
    const { dy, x, scale, mean, variance } = checkFloat(BATCH_NORM_TRAIN_GRAD, inputs);
    const channels = channelsOf(BATCH_NORM_TRAIN_GRAD, x!, [scale!, mean!, variance!]);
    const { infos, views } = memory.alloc(backend, [x!.shape, [channels], [channels]]);
    const [dx, dScale, dOffset] = views as [Float32Array, Float32Array, Float32Array];
    batchNormBackward(
      memory.read(backend, dy!),
      memory.read(backend, x!),
      channels,
      memory.read(backend, mean!),
      memory.read(backend, variance!),
      memory.read(backend, scale!),
      attrs.epsilon as number,
      dx,
      dScale,
      dOffset,
    );
    return infos;
  };
}

let gradientRegistered = false;

/** Registers the gradient of `OodBatchNormTrain` (backend independent; once per process). */
function registerGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAIN,
    inputsToSave: ["x", "scale"],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [x, scale, mean, variance] = saved as tf.Tensor[];
      const dy = (dys as tf.Tensor[])[0]!;
      // Computed once here (in the backward scope), not inside each thunk: the thunks run in separate
      // tidy scopes, and one kernel call yields all three gradients.
      const [dx, dScale, dOffset] = tf.engine().runKernel(
        BATCH_NORM_TRAIN_GRAD,
        { dy, x: x!, scale: scale!, mean: mean!, variance: variance! },
        { epsilon: (attrs as { epsilon: number }).epsilon },
      ) as tf.Tensor[];
      return { x: () => dx!, scale: () => dScale!, offset: () => dOffset! };
    },
  });
}

/** Registers the JS fused kernels on `backend` (call before or after the backend starts). */
export function registerFusedKernels(backend: "cpu" | "wasm"): void {
  registerGradient();
  const memory = HOST_MEMORY[backend];
  replaceKernel(BATCH_NORM_TRAIN, backend, trainKernel(memory));
  replaceKernel(BATCH_NORM_TRAIN_GRAD, backend, gradKernel(memory));
}
