/**
 * Batch normalisation on the native library: the fused training kernels (`OodBatchNormTrain` and its
 * gradient, see lib/engine/fused/mod.ts) and the inference kernel `FusedBatchNorm`, multithreaded.
 * @module
 */
import type { TensorInfo } from "../../../tf.ts";
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from "../../fused/mod.ts";
import { currentKernel, type KernelArgs, replaceKernel, sizeOf } from "../../kernels.ts";
import { addressOf } from "../heap.ts";
import type { NativeLibrary } from "../library.ts";

const rowsOf = (x: TensorInfo) => BigInt(sizeOf(x.shape) / x.shape[x.shape.length - 1]!);

/** Registers the batch-norm kernels on the wasm backend (after `registerFusedKernels("wasm")`). */
export function registerBatchNormKernels(lib: NativeLibrary): void {
  const s = lib.symbols;
  const jsTrain = currentKernel(BATCH_NORM_TRAIN, "wasm")!;
  replaceKernel(BATCH_NORM_TRAIN, "wasm", (args: KernelArgs) => {
    const { x, scale, offset } = args.inputs as Record<string, TensorInfo>;
    const c = x!.shape[x!.shape.length - 1]!;
    if (x!.dtype !== "float32" || scale!.shape[0] !== c || offset!.shape[0] !== c) return jsTrain(args); // JS path reports the error
    const be = args.backend;
    const [y, mean, variance] = [x!.shape, [c], [c]].map((shape) => be.makeOutput(shape, "float32") as TensorInfo);
    const a = (t: TensorInfo) => addressOf(be, t);
    lib.check(s.ood_batch_norm_train(
      a(x!),
      rowsOf(x!),
      c,
      a(scale!),
      a(offset!),
      args.attrs.epsilon as number,
      a(y!),
      a(mean!),
      a(variance!),
    ));
    return [y!, mean!, variance!];
  });

  const jsGrad = currentKernel(BATCH_NORM_TRAIN_GRAD, "wasm")!;
  replaceKernel(BATCH_NORM_TRAIN_GRAD, "wasm", (args: KernelArgs) => {
    const { dy, x, scale, mean, variance } = args.inputs as Record<string, TensorInfo>;
    const c = x!.shape[x!.shape.length - 1]!;
    if ([dy, x, scale, mean, variance].some((t) => t!.dtype !== "float32")) return jsGrad(args);
    const be = args.backend;
    const [dx, dScale, dOffset] = [x!.shape, [c], [c]].map((shape) => be.makeOutput(shape, "float32") as TensorInfo);
    const a = (t: TensorInfo) => addressOf(be, t);
    lib.check(s.ood_batch_norm_train_backward(
      a(dy!),
      a(x!),
      rowsOf(x!),
      c,
      a(scale!),
      a(mean!),
      a(variance!),
      args.attrs.epsilon as number,
      a(dx!),
      a(dScale!),
      a(dOffset!),
    ));
    return [dx!, dScale!, dOffset!];
  });

  const stockInference = currentKernel("FusedBatchNorm", "wasm")!;
  replaceKernel("FusedBatchNorm", "wasm", (args: KernelArgs) => {
    const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined>;
    const c = x!.shape[x!.shape.length - 1]!;
    const perChannel = [mean, variance, offset, scale].every((t) =>
      !t || (sizeOf(t.shape) === c || sizeOf(t.shape) === 1)
    );
    if (x!.dtype !== "float32" || !perChannel) return stockInference(args);
    const be = args.backend;
    const y = be.makeOutput(x!.shape, "float32") as TensorInfo;
    const a = (t: TensorInfo | undefined) => (t ? addressOf(be, t) : 0n);
    const n = (t: TensorInfo | undefined) => (t ? sizeOf(t.shape) : 0);
    lib.check(s.ood_batch_norm_infer(
      a(x),
      rowsOf(x!),
      c,
      a(mean),
      n(mean),
      a(variance),
      n(variance),
      a(scale),
      n(scale),
      a(offset),
      n(offset),
      args.attrs.varianceEpsilon as number,
      a(y),
    ));
    return y;
  });
}
