// Batched matrix multiply C[b] = op(A[b]) · op(B[b]) (+ bias, activation) on oneDNN's sgemm, row-major.
// A batch stride of 0 broadcasts that operand over the batch.
#include "activation.h"
#include "common.h"


OOD_EXPORT int ood_matmul(int batch, int trans_a, int trans_b, int m, int n, int k, float* a, long stride_a, float* b,
                          long stride_b, float* c, float* bias, int act, float alpha) {
  if (!ood::valid_activation(act)) return ood::fail("matmul: unknown activation code " + std::to_string(act));
  for (int i = 0; i < batch; i++) {
    const dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, 1.f, a + i * stride_a,
                                        trans_a ? m : k, b + i * stride_b, trans_b ? k : n, 0.f, c + (long)i * m * n, n);
    if (st != dnnl_success) return ood::fail("matmul: dnnl_sgemm status " + std::to_string(static_cast<int>(st)));
  }
  if (bias || act) ood::bias_activation(c, (long)batch * m, n, bias, act, alpha);
  return 0;
}
