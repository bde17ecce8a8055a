#!/usr/bin/env bash
# Compiles the WebAssembly flow core (agent/flowcore/assembly, AssemblyScript) to $1
# (default dist/agent/flowcore/flowcore.wasm). Used by `npm run build`, scripts/setup.sh and
# packaging/build-deb.sh, so the flags live in one place.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist/agent/flowcore/flowcore.wasm}
mkdir -p "$(dirname "$out")"
# -O3: speed over size; minimal runtime: no garbage collector (the core manages its own memory,
# heap.alloc/free); --noAssert: the core checks its own bounds, asserts would be dead weight;
# SIMD: the checksum adds 16 bytes per step (WebAssembly SIMD: Node >= 16.4 on x86-64 and arm64).
exec node node_modules/assemblyscript/bin/asc.js agent/flowcore/assembly/index.ts -O3 --runtime minimal --noAssert --enable simd -o "$out"
