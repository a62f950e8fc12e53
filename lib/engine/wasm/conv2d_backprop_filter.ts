/**
 * `Conv2DBackpropFilter` (the weight gradient of a conv) for the wasm backend, which has none: without it no
 * conv net trains there.
 *
 * dW is a GEMM with a huge reduction (K = N·OH·OW) and small sides (KH·KW·C by CO). Every XNNPACK GEMM packs
 * one operand first, and at these sizes the packing (~10 ns per element, single-threaded) costs as much as the
 * multiply, so the strategy is the one that packs the smaller operand.
 * @module
 */
import { type KernelArgs, KernelCtx } from "../kernels.ts";
import type { TensorInfo, tf } from "../../tf.ts";
import { im2col, windowToCHWN } from "./heap_layout.ts";
import { type ConvGradAttrs, dilationProblem, nhwcConvInfo, unsupported } from "./shared.ts";

const KERNEL = "Conv2DBackpropFilter";

interface Attrs extends ConvGradAttrs {
  filterShape: [number, number, number, number];
}
type ConvInfo = tf.backend_util.Conv2DInfo;

/**
 * dW[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, oh·sh + kh − top, ow·sw + kw − left, ci] · dy[n, oh, ow, co].
 *
 * "swap" (the default, packs dy): one XNNPACK convolution with batch and channels swapped. "im2col" (packs the
 * input windows) when the filter's input side KH·KW·C is at most half of CO: 1x1 shortcuts and stems on few
 * channels, where it measured 2x faster at batch 128 (1x1/2 16→32: 13 vs 26 ms). Either is 1.3–3x the forward
 * conv; the transposed wasm matmul the obvious formulations need is a naive loop, 3–10x slower still.
 *
 * NHWC, float32 and dilation 1 only: anything else throws (there is no stock kernel to fall back to).
 */
export function conv2DBackpropFilter({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as Attrs;
  if (a.dataFormat === "NCHW") throw unsupported(KERNEL, "dataFormat NCHW (only NHWC)");
  if (x.dtype !== "float32" || dy.dtype !== "float32") throw unsupported(KERNEL, `dtype ${x.dtype} (only float32)`);
  const dilation = dilationProblem(a);
  if (dilation) throw unsupported(KERNEL, dilation);
  const info = nhwcConvInfo(x.shape, a.filterShape, a);
  const c = new KernelCtx(backend, "wasm");
  const narrowInput = 2 * info.filterHeight * info.filterWidth * info.inChannels <= info.outChannels;
  return c.finish(narrowInput ? viaIm2col(c, x, dy, info) : viaSwap(c, x, dy, info));
}

/**
 * The padded input, transposed to [C, Hp, Wp, N] in one pass over the heap, convolved with dy transposed to
 * [OH, OW, N, CO] as the filter, dilation = the forward stride: [C, KH, KW, CO].
 */
function viaSwap(c: KernelCtx, x: TensorInfo, dy: TensorInfo, info: ConvInfo): TensorInfo {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  // Exactly the input rows/cols the forward conv read: padding added, unread trailing rows dropped.
  const rows = { begin: -info.padInfo.top, size: (oh - 1) * sh + kh };
  const cols = { begin: -info.padInfo.left, size: (ow - 1) * sw + kw };
  const xT = windowToCHWN(c, x, rows, cols);
  const dyT = c.transpose(dy, [1, 2, 0, 3]);
  const swapped = c.run("Conv2D", { x: xT, filter: dyT }, {
    strides: [1, 1],
    pad: "valid",
    dataFormat: "NHWC",
    dilations: [sh, sw],
    dimRoundingMode: undefined,
  });
  return c.transpose(swapped, [1, 2, 0, 3]);
}

/** dWᵀ [CO, KH·KW·C] = dyᵀ [CO, K] @ im2col(x) [K, KH·KW·C]; a 1x1/1 unpadded conv's im2col is x itself. */
function viaIm2col(c: KernelCtx, x: TensorInfo, dy: TensorInfo, info: ConvInfo): TensorInfo {
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co } = info;
  const k = info.batchSize * info.outHeight * info.outWidth;
  const pointwise = kh === 1 && kw === 1 && info.strideHeight === 1 && info.strideWidth === 1 &&
    info.padInfo.top === 0 && info.padInfo.left === 0 && info.outHeight === info.inHeight &&
    info.outWidth === info.inWidth;
  const cols = pointwise ? x : im2col(c, x, info);
  const dwT = c.run("BatchMatMul", { a: c.reshape(dy, [1, k, co]), b: c.reshape(cols, [1, k, kh * kw * ci]) }, {
    transposeA: true,
    transposeB: false,
  });
  return c.transpose(c.reshape(dwT, [co, kh, kw, ci]), [1, 2, 3, 0]);
}
