// Elementwise kernels that replace several TF.js ops in one pass.
#include "common.h"

// dx = dy where x > 0, else 0: the ReLU gradient, which TF.js computes as dy · cast(step(x)) in three passes.
OOD_EXPORT int ood_relu_grad(const float* dy, const float* x, float* dx, long n) {
#pragma omp parallel for simd schedule(static)
  for (long i = 0; i < n; i++) dx[i] = x[i] > 0.f ? dy[i] : 0.f;
  return 0;
}
