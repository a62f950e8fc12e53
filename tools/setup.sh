#!/usr/bin/env bash
# Installs what ood-notebooks needs on a Debian machine that has Node.js and npm, idempotently:
#   Debian packages (oneDNN + g++ for the native engine, Mesa Vulkan for WebGPU, Jupyter and the classic Notebook UI
#   for the notebooks, Chromium for the browser tests),
#   Deno 2.9.6 from npm, the locked npm dependencies, and the native kernel library.
# usage: bash tools/setup.sh [--bench]    (--bench adds python3-torch for the PyTorch comparison)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DENO_VERSION=2.9.6
packages=(g++ libdnnl-dev mesa-vulkan-drivers libvulkan1 jupyter-nbconvert python3-nbclient jupyter-client
  python3-ipykernel python3-nbformat jupyter-notebook chromium fonts-dejavu-core)
if [[ "${1:-}" == "--bench" ]]; then packages+=(python3-torch); fi

missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then apt=(apt-get); elif command -v sudo >/dev/null; then apt=(sudo apt-get); else apt=(); fi
  if ((${#apt[@]})); then
    echo "setup: installing Debian packages: ${missing[*]}"
    "${apt[@]}" update -qq
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: cannot install ${missing[*]} (not root, no sudo); the native engine and notebook tests need them" >&2
  fi
fi

if ! command -v deno >/dev/null || [[ "$(deno --version | head -1)" != "deno $DENO_VERSION"* ]]; then
  echo "setup: installing deno@$DENO_VERSION from npm"
  npm install -g --silent "deno@$DENO_VERSION" >/dev/null
fi

deno install --frozen --quiet

if bash native/build.sh >/dev/null; then
  echo "setup: native engine built (native/build/libood_native.so)"
else
  echo "setup: native engine not built; the wasm engine will be used" >&2
fi

# Register the Deno Jupyter kernel (a second plain --install exits 1, hence --force).
if command -v jupyter >/dev/null; then
  deno jupyter --install --force >/dev/null 2>&1 || echo "setup: could not register the Deno Jupyter kernel (deno jupyter --install)" >&2
fi
echo "setup: done ($(deno --version | head -1))"
