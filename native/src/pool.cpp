// Gradients of 2-D max and average pooling (NHWC) with the cpu backend's semantics: the max-pool gradient
// goes to the first maximum of each window in row-major scan order; the average-pool gradient divides by
// the full window size (also where the window overlaps padding). Parallel over images.
#include <omp.h>
#include <cmath>
#include <limits>
#include <vector>
#include "common.h"

namespace {

// Pool geometry as passed from TypeScript (lib/engine/native/kernels/pool.ts), in this order.
struct Pool {
  int32_t n, h, w, c, fh, fw, sh, sw, dh, dw, pt, pl, oh, ow;
};
Pool read_pool(const int32_t* g) {
  return Pool{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13]};
}

// Calls tap(offset) for every in-bounds input pixel of output (oh, ow)'s window, in row-major order;
// offset is the pixel's first channel within its image.
template <class F>
void for_each_tap(const Pool& p, int oh, int ow, F&& tap) {
  for (int kh = 0; kh < p.fh; kh++) {
    const int ih = oh * p.sh - p.pt + kh * p.dh;
    if (ih < 0 || ih >= p.h) continue;
    for (int kw = 0; kw < p.fw; kw++) {
      const int iw = ow * p.sw - p.pl + kw * p.dw;
      if (iw >= 0 && iw < p.w) tap((static_cast<long>(ih) * p.w + iw) * p.c);
    }
  }
}

}  // namespace

OOD_EXPORT int ood_max_pool_grad(const int32_t* geom, const float* dy, const float* x, float* dx) {
  return ood::guarded("max pool grad", [&] {
    const Pool p = read_pool(geom);
    const long image = static_cast<long>(p.h) * p.w * p.c;
#pragma omp parallel
    {
      std::vector<float> best(p.c);
      std::vector<long> where(p.c);
#pragma omp for schedule(static)
      for (int n = 0; n < p.n; n++) {
        const float* xn = x + n * image;
        float* dxn = dx + n * image;
        std::fill(dxn, dxn + image, 0.f);
        for (int oh = 0; oh < p.oh; oh++) {
          for (int ow = 0; ow < p.ow; ow++) {
            std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
            std::fill(where.begin(), where.end(), -1L);
            for_each_tap(p, oh, ow, [&](long base) {
              for (int c = 0; c < p.c; c++) {
                if (xn[base + c] > best[c]) {  // strict: the first maximum wins
                  best[c] = xn[base + c];
                  where[c] = base + c;
                }
              }
            });
            const float* g = dy + ((static_cast<long>(n) * p.oh + oh) * p.ow + ow) * p.c;
            for (int c = 0; c < p.c; c++)
              if (where[c] >= 0) dxn[where[c]] += g[c];
          }
        }
      }
    }
  });
}

OOD_EXPORT int ood_avg_pool_grad(const int32_t* geom, const float* dy, float* dx) {
  return ood::guarded("avg pool grad", [&] {
    const Pool p = read_pool(geom);
    const long image = static_cast<long>(p.h) * p.w * p.c;
    const float scale = 1.f / (p.fh * p.fw);
#pragma omp parallel for schedule(static)
    for (int n = 0; n < p.n; n++) {
      float* dxn = dx + n * image;
      std::fill(dxn, dxn + image, 0.f);
      for (int oh = 0; oh < p.oh; oh++) {
        for (int ow = 0; ow < p.ow; ow++) {
          const float* g = dy + ((static_cast<long>(n) * p.oh + oh) * p.ow + ow) * p.c;
          for_each_tap(p, oh, ow, [&](long base) {
            for (int c = 0; c < p.c; c++) dxn[base + c] += g[c] * scale;
          });
        }
      }
    }
  });
}
