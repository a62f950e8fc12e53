// Batch normalisation over channels-last data viewed as [rows, channels]: training forward (batch
// statistics), its backward, and inference with given statistics. The formulas are those of
// lib/engine/fused/batch_norm_math.ts; sums accumulate in double, per thread, then combine.
#include <omp.h>
#include <cmath>
#include <vector>
#include "common.h"

namespace {

// Per-channel Σ f(row, c) over rows, split across threads, in double.
template <class F>
void channel_sums(long rows, int channels, int outputs, std::vector<double>& out, F&& f) {
  const int nt = ood::threads();
  std::vector<double> partial(static_cast<size_t>(nt) * outputs * channels, 0.0);
#pragma omp parallel num_threads(nt)
  {
    double* acc = partial.data() + static_cast<size_t>(omp_get_thread_num()) * outputs * channels;
#pragma omp for schedule(static)
    for (long r = 0; r < rows; r++) f(r, acc);
  }
  out.assign(static_cast<size_t>(outputs) * channels, 0.0);
  for (int t = 0; t < nt; t++)
    for (size_t i = 0; i < out.size(); i++) out[i] += partial[static_cast<size_t>(t) * outputs * channels + i];
}

// y = x·a_c + b_c per channel.
void affine(const float* x, long rows, int channels, const float* a, const float* b, float* y) {
#pragma omp parallel for schedule(static)
  for (long r = 0; r < rows; r++) {
    const float* xr = x + r * channels;
    float* yr = y + r * channels;
#pragma omp simd
    for (int c = 0; c < channels; c++) yr[c] = xr[c] * a[c] + b[c];
  }
}

}  // namespace

OOD_EXPORT int ood_batch_norm_train(const float* x, long rows, int channels, const float* scale, const float* offset,
                                    float epsilon, float* y, float* mean, float* variance) {
  return ood::guarded("batch norm train", [&] {
    // Shifting by the first row keeps the one-pass variance well conditioned.
    std::vector<double> sums;
    channel_sums(rows, channels, 2, sums, [&](long r, double* acc) {
      const float* xr = x + r * channels;
      for (int c = 0; c < channels; c++) {
        const double d = static_cast<double>(xr[c]) - x[c];
        acc[c] += d;
        acc[channels + c] += d * d;
      }
    });
    std::vector<float> a(channels), b(channels);
    for (int c = 0; c < channels; c++) {
      const double m = sums[c] / rows;
      mean[c] = static_cast<float>(x[c] + m);
      variance[c] = static_cast<float>(std::fmax(0.0, sums[channels + c] / rows - m * m));
      a[c] = static_cast<float>(scale[c] / std::sqrt(static_cast<double>(variance[c]) + epsilon));
      b[c] = offset[c] - mean[c] * a[c];
    }
    affine(x, rows, channels, a.data(), b.data(), y);
  });
}

OOD_EXPORT int ood_batch_norm_train_backward(const float* dy, const float* x, long rows, int channels,
                                             const float* scale, const float* mean, const float* variance,
                                             float epsilon, float* dx, float* d_scale, float* d_offset) {
  return ood::guarded("batch norm train backward", [&] {
    std::vector<double> inv_std(channels);
    for (int c = 0; c < channels; c++) inv_std[c] = 1.0 / std::sqrt(static_cast<double>(variance[c]) + epsilon);
    std::vector<float> mean_f(mean, mean + channels);
    std::vector<double> sums;
    channel_sums(rows, channels, 2, sums, [&](long r, double* acc) {
      const float* dyr = dy + r * channels;
      const float* xr = x + r * channels;
      for (int c = 0; c < channels; c++) {
        acc[c] += dyr[c];
        acc[channels + c] += static_cast<double>(dyr[c]) * (xr[c] - mean_f[c]);
      }
    });
    // dx = k·dy + p·x + q per channel (see batch_norm_math.ts).
    std::vector<float> k(channels), p(channels), q(channels);
    for (int c = 0; c < channels; c++) {
      const double sum_dy = sums[c], sum_dy_xhat = sums[channels + c] * inv_std[c];
      d_offset[c] = static_cast<float>(sum_dy);
      d_scale[c] = static_cast<float>(sum_dy_xhat);
      const double kc = scale[c] * inv_std[c];
      const double pc = -kc * sum_dy_xhat * inv_std[c] / rows;
      k[c] = static_cast<float>(kc);
      p[c] = static_cast<float>(pc);
      q[c] = static_cast<float>(-kc * sum_dy / rows - pc * mean[c]);
    }
#pragma omp parallel for schedule(static)
    for (long r = 0; r < rows; r++) {
      const float* dyr = dy + r * channels;
      const float* xr = x + r * channels;
      float* dxr = dx + r * channels;
#pragma omp simd
      for (int c = 0; c < channels; c++) dxr[c] = k[c] * dyr[c] + p[c] * xr[c] + q[c];
    }
  });
}

// y = (x − mean)·scale / √(variance + ε) + offset with given statistics; scale/offset may be null (1 / 0).
// Each per-channel input may have `channels` entries or 1 (broadcast).
OOD_EXPORT int ood_batch_norm_infer(const float* x, long rows, int channels, const float* mean, int mean_n,
                                    const float* variance, int variance_n, const float* scale, int scale_n,
                                    const float* offset, int offset_n, float epsilon, float* y) {
  return ood::guarded("batch norm inference", [&] {
    std::vector<float> a(channels), b(channels);
    for (int c = 0; c < channels; c++) {
      const double s = scale ? scale[scale_n == 1 ? 0 : c] : 1.0;
      const double o = offset ? offset[offset_n == 1 ? 0 : c] : 0.0;
      const double m = mean[mean_n == 1 ? 0 : c], v = variance[variance_n == 1 ? 0 : c];
      a[c] = static_cast<float>(s / std::sqrt(v + epsilon));
      b[c] = static_cast<float>(o - m * a[c]);
    }
    affine(x, rows, channels, a.data(), b.data(), y);
  });
}
