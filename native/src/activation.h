// Bias + activation epilogue shared by matmul.cpp and the pointwise convolutions in conv.cpp.
// Activation codes (shared with lib/engine/native/kernels/activation.ts):
// 0 linear, 1 relu, 2 relu6, 3 elu, 4 sigmoid, 5 leaky relu (slope alpha).
#pragma once
#include <cmath>

namespace ood {

// rows × cols row-major: c[r, j] = act(c[r, j] + bias[j]); bias may be null.
inline void bias_activation(float* c, long rows, long cols, const float* bias, int act, float alpha) {
#pragma omp parallel for schedule(static)
  for (long r = 0; r < rows; r++) {
    float* row = c + r * cols;
    if (bias)
      for (long j = 0; j < cols; j++) row[j] += bias[j];
    switch (act) {
      case 1: for (long j = 0; j < cols; j++) row[j] = row[j] > 0.f ? row[j] : 0.f; break;
      case 2: for (long j = 0; j < cols; j++) row[j] = std::fmin(std::fmax(row[j], 0.f), 6.f); break;
      case 3: for (long j = 0; j < cols; j++) row[j] = row[j] > 0.f ? row[j] : std::expm1(row[j]); break;
      case 4: for (long j = 0; j < cols; j++) row[j] = 1.f / (1.f + std::exp(-row[j])); break;
      case 5: for (long j = 0; j < cols; j++) row[j] = row[j] > 0.f ? row[j] : alpha * row[j]; break;
      default: break;
    }
  }
}

inline bool valid_activation(int act) { return act >= 0 && act <= 5; }

}  // namespace ood
