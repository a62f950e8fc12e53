/**
 * The ReLU gradient in one native pass. TF.js's registered gradient of `Relu` is dy · cast(step(x)), three
 * kernels and two temporaries (~10 % of a ResNet-20 step); this engine re-registers the gradient to run the
 * `OodReluGrad` kernel, and the composite elsewhere.
 * @module
 */
import { type TensorInfo, tf } from "../../../tf.ts";
import { type KernelArgs, replaceKernel, sizeOf } from "../../kernels.ts";
import { addressOf } from "../heap.ts";
import type { NativeLibrary } from "../library.ts";

export const RELU_GRAD = "OodReluGrad";

/** Registers `OodReluGrad` on the wasm backend and the `Relu` gradient that uses it. */
export function registerReluGrad(lib: NativeLibrary): void {
  replaceKernel(RELU_GRAD, "wasm", ({ inputs, backend }: KernelArgs) => {
    const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
    const dx = backend.makeOutput(x.shape, "float32") as TensorInfo;
    lib.check(
      lib.symbols.ood_relu_grad(
        addressOf(backend, dy),
        addressOf(backend, x),
        addressOf(backend, dx),
        BigInt(sizeOf(x.shape)),
      ),
    );
    return dx;
  });
  tf.registerGradient({
    kernelName: "Relu",
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      const g = dy as tf.Tensor;
      const fused = x.dtype === "float32" && g.dtype === "float32" && tf.getKernel(RELU_GRAD, tf.getBackend());
      return {
        x: () =>
          fused
            ? tf.engine().runKernel(RELU_GRAD, { dy: g, x }) as tf.Tensor
            : tf.mul(g, tf.cast(tf.step(x), "float32")),
      };
    },
  });
}
