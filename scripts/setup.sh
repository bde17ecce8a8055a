#!/usr/bin/env bash
# One-shot set-up used by `npm test`, `npm run demo` and `npm run bench`:
#   1. Debian packages the build and the tests need (only when missing, only as root),
#   2. `npm ci` when node_modules is absent or older than package-lock.json,
#   3. the TypeScript build (which is also the type-check: a type error fails here), then the
#      WebAssembly flow core (agent/flowcore/assembly, AssemblyScript → dist/agent/flowcore/flowcore.wasm).
# Idempotent and quiet when there is nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."

want_pkgs=()
[ -f /usr/include/pcap/pcap.h ] || want_pkgs+=(libpcap-dev)
# Tests that replay into a veth pair need tcpreplay and iproute2; they skip without them.
command -v tcpreplay >/dev/null 2>&1 || want_pkgs+=(tcpreplay)
command -v ip >/dev/null 2>&1 || want_pkgs+=(iproute2)
command -v tcpdump >/dev/null 2>&1 || want_pkgs+=(tcpdump)
# The TLS/mTLS tests make their certificates with the openssl CLI; they skip without it.
command -v openssl >/dev/null 2>&1 || want_pkgs+=(openssl)
if [ "${TELLTALE_SETUP_EXTRA:-}" != "" ]; then
  for p in $TELLTALE_SETUP_EXTRA; do dpkg -s "$p" >/dev/null 2>&1 || want_pkgs+=("$p"); done
fi

if [ ${#want_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian packages: ${want_pkgs[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${want_pkgs[@]}" >/dev/null
  elif [[ " ${want_pkgs[*]} " == *" libpcap-dev "* ]]; then
    echo "setup: libpcap headers are missing; install them with: sudo apt-get install libpcap-dev" >&2
    exit 1
  else
    echo "setup: optional tools missing (${want_pkgs[*]}); tests that need them will skip" >&2
  fi
fi

stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ ! -d node_modules/cap/build ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "setup: building (tsc, then the WebAssembly flow core with asc)" >&2
rm -rf dist && npx tsc -p tsconfig.json && npm run --silent build:flowcore
