// Sum over one contiguous run of axes: x viewed as [outer, reduced, inner] -> out [outer, inner], times
// `scale` (1 for Sum, 1/reduced for Mean). Covers BatchNorm-style leading-axis reductions, bias gradients
// and global average pooling. Accumulates in double.
#include <omp.h>
#include <algorithm>
#include <vector>
#include "common.h"

OOD_EXPORT int ood_reduce_sum(const float* x, long outer, long reduced, long inner, double scale, float* out) {
  return ood::guarded("reduce sum", [&] {
    if (inner == 1) {
#pragma omp parallel for schedule(static)
      for (long o = 0; o < outer; o++) {
        const float* xo = x + o * reduced;
        double s = 0;
        for (long r = 0; r < reduced; r++) s += xo[r];
        out[o] = static_cast<float>(s * scale);
      }
      return;
    }
    if (outer >= ood::threads()) {
#pragma omp parallel
      {
        std::vector<double> acc(inner);
#pragma omp for schedule(static)
        for (long o = 0; o < outer; o++) {
          std::fill(acc.begin(), acc.end(), 0.0);
          const float* xo = x + o * reduced * inner;
          for (long r = 0; r < reduced; r++)
            for (long j = 0; j < inner; j++) acc[j] += xo[r * inner + j];
          for (long j = 0; j < inner; j++) out[o * inner + j] = static_cast<float>(acc[j] * scale);
        }
      }
      return;
    }
    // Few outer slices (e.g. a leading-axis reduction): split the reduced axis across threads instead.
    const int nt = ood::threads();
    std::vector<double> partial(static_cast<size_t>(nt) * outer * inner, 0.0);
#pragma omp parallel num_threads(nt)
    {
      double* acc = partial.data() + static_cast<size_t>(omp_get_thread_num()) * outer * inner;
#pragma omp for schedule(static)
      for (long r = 0; r < reduced; r++)
        for (long o = 0; o < outer; o++) {
          const float* row = x + (o * reduced + r) * inner;
          double* a = acc + o * inner;
          for (long j = 0; j < inner; j++) a[j] += row[j];
        }
    }
    for (long k = 0; k < outer * inner; k++) {
      double s = 0;
      for (int t = 0; t < nt; t++) s += partial[static_cast<size_t>(t) * outer * inner + k];
      out[k] = static_cast<float>(s * scale);
    }
  });
}
