// Shared state and helpers of the ood-notebooks native kernels (see native/README.md).
// Every exported function returns 0 on success or -1 after recording a message for ood_last_error():
// no C++ exception may cross the FFI boundary.
#pragma once
#include <dnnl.hpp>
#include <cstdint>
#include <string>

namespace ood {

dnnl::engine& cpu_engine();
dnnl::stream& cpu_stream();

// Records the message of the current failure; returns -1 for `return fail(...)`.
int fail(const std::string& message);

// Runs f(); converts any exception into the -1 / ood_last_error() convention.
template <class F>
int guarded(const char* what, F&& f) {
  try {
    f();
    return 0;
  } catch (const dnnl::error& e) {
    return fail(std::string(what) + ": oneDNN status " + std::to_string(static_cast<int>(e.status)) + ": " + e.what());
  } catch (const std::exception& e) {
    return fail(std::string(what) + ": " + e.what());
  }
}

// Number of OpenMP threads the kernels use (set by ood_init).
int threads();

}  // namespace ood

#define OOD_EXPORT extern "C" __attribute__((visibility("default")))
