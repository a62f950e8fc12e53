/**
 * Conv2D, FusedConv2D, Conv2DBackpropInput and Conv2DBackpropFilter on oneDNN (native/src/conv.cpp):
 * NHWC activations and HWIO filters used in place on the wasm heap. NCHW input or a fused PReLU go to the
 * kernel registered before (the wasm engine's).
 * @module
 */
import { type TensorInfo, tf } from "../../../tf.ts";
import { currentKernel, type KernelArgs, type KernelImpl, replaceKernel } from "../../kernels.ts";
import { addressOf } from "../heap.ts";
import type { NativeLibrary } from "../library.ts";
import { activationCode } from "./activation.ts";

type ConvInfo = tf.backend_util.Conv2DInfo;

/**
 * Conv geometry in the order native/src/conv.cpp reads it. Bottom/right padding is the exact amount the output
 * size implies, (out − 1)·stride + (k − 1)·dilation + 1 − in − top, which is negative when the last rows are
 * never read; TF.js clamps it to 0, and oneDNN 2.6's jit_1x1 backward-weights kernel then gives wrong results
 * (e.g. 1×1 stride 2 on an even size).
 */
export function geometry(info: ConvInfo): Int32Array {
  const { batchSize, inHeight, inWidth, inChannels, filterHeight, filterWidth, outChannels } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth, padInfo, outHeight, outWidth } = info;
  const bottom = (outHeight - 1) * strideHeight + (filterHeight - 1) * dilationHeight + 1 - inHeight - padInfo.top;
  const right = (outWidth - 1) * strideWidth + (filterWidth - 1) * dilationWidth + 1 - inWidth - padInfo.left;
  return Int32Array.of(
    batchSize,
    inHeight,
    inWidth,
    inChannels,
    filterHeight,
    filterWidth,
    outChannels,
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
    padInfo.top,
    padInfo.left,
    bottom,
    right,
    outHeight,
    outWidth,
  );
}

function convInfo(xShape: number[], filterShape: number[], attrs: Record<string, unknown>): ConvInfo | null {
  const format = tf.backend_util.convertConv2DDataFormat((attrs.dataFormat as "NHWC" | "NCHW") ?? "NHWC");
  if (format !== "channelsLast") return null;
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number],
    (attrs.dilations as [number, number] | number | undefined) ?? 1,
    attrs.pad as "same",
    attrs.dimRoundingMode as "floor" | undefined,
    false,
    format,
  );
}

function fallbackTo(name: string): KernelImpl {
  const previous = currentKernel(name, "wasm");
  if (!previous) throw new Error(`native engine: no ${name} kernel to fall back to on wasm`);
  return previous;
}

/** Registers the four convolution kernels on the wasm backend. */
export function registerConvKernels(lib: NativeLibrary): void {
  const s = lib.symbols;

  const conv2d = fallbackTo("Conv2D");
  replaceKernel("Conv2D", "wasm", (args: KernelArgs) => {
    const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
    const info = convInfo(x.shape, filter.shape, args.attrs);
    if (!info) return conv2d(args);
    const out = args.backend.makeOutput(info.outShape, "float32") as TensorInfo;
    const b = args.backend;
    lib.check(s.ood_conv2d_forward(geometry(info), addressOf(b, x), addressOf(b, filter), 0n, addressOf(b, out), 0, 0));
    return out;
  });

  const fused = fallbackTo("FusedConv2D");
  replaceKernel("FusedConv2D", "wasm", (args: KernelArgs) => {
    const { x, filter, bias } = args.inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo };
    const act = activationCode(args.attrs.activation);
    const info = convInfo(x.shape, filter.shape, args.attrs);
    const biasOk = !bias || (bias.shape.length === 1 && bias.shape[0] === filter.shape[3]);
    if (!info || act === null || !biasOk || args.inputs.preluActivationWeights) return fused(args);
    const out = args.backend.makeOutput(info.outShape, "float32") as TensorInfo;
    const b = args.backend;
    const alpha = (args.attrs.leakyreluAlpha as number | undefined) ?? 0.2;
    lib.check(s.ood_conv2d_forward(
      geometry(info),
      addressOf(b, x),
      addressOf(b, filter),
      bias ? addressOf(b, bias) : 0n,
      addressOf(b, out),
      act,
      alpha,
    ));
    return out;
  });

  const backpropInput = fallbackTo("Conv2DBackpropInput");
  replaceKernel("Conv2DBackpropInput", "wasm", (args: KernelArgs) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const inputShape = args.attrs.inputShape as number[];
    const info = convInfo(inputShape, filter.shape, args.attrs);
    if (!info) return backpropInput(args);
    const out = args.backend.makeOutput(inputShape, "float32") as TensorInfo;
    const b = args.backend;
    lib.check(s.ood_conv2d_backward_data(geometry(info), addressOf(b, dy), addressOf(b, filter), addressOf(b, out)));
    return out;
  });

  const backpropFilter = fallbackTo("Conv2DBackpropFilter");
  replaceKernel("Conv2DBackpropFilter", "wasm", (args: KernelArgs) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const filterShape = args.attrs.filterShape as number[];
    const info = convInfo(x.shape, filterShape, args.attrs);
    if (!info) return backpropFilter(args);
    const out = args.backend.makeOutput(filterShape, "float32") as TensorInfo;
    const b = args.backend;
    lib.check(s.ood_conv2d_backward_weights(geometry(info), addressOf(b, x), addressOf(b, dy), addressOf(b, out)));
    return out;
  });
}
