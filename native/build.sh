#!/usr/bin/env bash
# Builds native/build/libood_native.so: the `native` engine's kernels (C++17, oneDNN, OpenMP).
# Needs g++ and Debian's libdnnl-dev (oneDNN 2.6); `.ci/run` and the README's setup command install them.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/build"
mkdir -p "$out"
if ! command -v g++ >/dev/null; then echo "native/build.sh: g++ not found (apt-get install g++)" >&2; exit 1; fi
if [ ! -f /usr/include/oneapi/dnnl/dnnl.hpp ]; then
  echo "native/build.sh: oneDNN headers not found (apt-get install libdnnl-dev)" >&2; exit 1
fi
# -march=native: the library is built on the machine that runs it.
g++ -std=c++17 -O3 -march=native -fopenmp -fPIC -shared -fvisibility=hidden -Wall -Wextra \
  -o "$out/libood_native.so.tmp" "$here"/src/*.cpp -ldnnl
mv "$out/libood_native.so.tmp" "$out/libood_native.so"
echo "built $out/libood_native.so"
