// Library lifetime: version, threads, the oneDNN engine and stream, and error reporting.
#include <omp.h>
#include <string>
#include "common.h"

namespace ood {
namespace {
std::string last_error;
int thread_count = 1;
}  // namespace

// Never destroyed: at process exit the OpenMP runtime may already be gone, and destroying oneDNN objects
// then crashes (seen as a segfault when Deno exits).
dnnl::engine& cpu_engine() {
  static auto* e = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *e;
}
dnnl::stream& cpu_stream() {
  static auto* s = new dnnl::stream(cpu_engine());
  return *s;
}
int fail(const std::string& message) {
  last_error = message;
  return -1;
}
int threads() { return thread_count; }

}  // namespace ood

// Bumped whenever an exported signature changes; the TypeScript side refuses a library of another version.
OOD_EXPORT int ood_abi_version() { return 1; }

OOD_EXPORT int ood_init(int threads) {
  if (threads < 1) return ood::fail("ood_init: threads must be >= 1");
  ood::thread_count = threads;
  omp_set_num_threads(threads);
  return ood::guarded("ood_init", [] { (void)ood::cpu_stream(); });
}

OOD_EXPORT const char* ood_last_error() { return ood::last_error.c_str(); }

// The oneDNN version as "major.minor.patch", for reports.
OOD_EXPORT const char* ood_dnnl_version() {
  static std::string v;
  const dnnl_version_t* d = dnnl_version();
  v = std::to_string(d->major) + "." + std::to_string(d->minor) + "." + std::to_string(d->patch);
  return v.c_str();
}
