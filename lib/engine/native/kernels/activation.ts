/** Activation codes of the native kernels (native/src/conv.cpp `Act`); null when the native side has none. */
export function activationCode(activation: unknown): number | null {
  switch (activation ?? "linear") {
    case "linear":
      return 0;
    case "relu":
      return 1;
    case "relu6":
      return 2;
    case "elu":
      return 3;
    case "sigmoid":
      return 4;
    case "leakyrelu":
      return 5;
    default:
      return null; // prelu needs per-channel weights: left to the wasm kernel
  }
}
