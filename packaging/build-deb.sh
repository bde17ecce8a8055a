#!/usr/bin/env bash
# Builds the release artefacts of Telltale:
#   OUT/telltale-agent_VERSION_ARCH.deb
#   OUT/telltale-collector_VERSION_ARCH.deb
#   OUT/telltale-VERSION-linux-NODEARCH.tar.gz   (both programs, units, configs; no installer)
#
# Each .deb carries its own Node.js runtime (the npm registry's node-linux-* package of the
# version this machine tests with, stripped) under /usr/lib/telltale/<program>/, so it runs
# on stock Debian 12 whose nodejs (18) is too old. The JavaScript is compiled fresh from
# the tree (packaging/tsconfig.release.json); production node_modules come from `npm ci
# --omit=dev` in a staging copy, and the native addons (cap, pcap) are compiled there
# against the bundled runtime's headers. Native code means: build on the target
# architecture (no cross builds).
#
# Usage: packaging/build-deb.sh --out DIR [--version V] [--node-version X.Y.Z]
#                               [--compress xz|gzip|zstd|none] [--no-tarball] [--keep-work]
#                               [--no-typecheck]  (package what tsc emits despite type errors;
#                                                  for tests in a tree others are editing)
# Cache (node runtime, staged node_modules, keyed by content): $TELLTALE_PKG_CACHE or data/pkg-cache.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PKGDIR="$REPO/packaging"
OUT=""
VERSION=""
NODE_VERSION=""
COMPRESS=xz
TARBALL=1
KEEP=0
TYPECHECK=1

die() { echo "build-deb: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=${2:?}; shift 2 ;;
    --version) VERSION=${2:?}; shift 2 ;;
    --node-version) NODE_VERSION=${2:?}; shift 2 ;;
    --compress) COMPRESS=${2:?}; shift 2 ;;
    --no-tarball) TARBALL=0; shift ;;
    --keep-work) KEEP=1; shift ;;
    --no-typecheck) TYPECHECK=0; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[ -n "$OUT" ] || die "--out DIR is required"
case "$COMPRESS" in xz|gzip|zstd|none) ;; *) die "--compress must be xz, gzip, zstd or none" ;; esac
for tool in dpkg-deb dpkg npm node tar sha256sum strip; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
done

VERSION=${VERSION:-$(node -p "require('$REPO/package.json').version")}
NODE_VERSION=${NODE_VERSION:-$(node -p 'process.versions.node')}
ARCH=$(dpkg --print-architecture)
case "$ARCH" in
  amd64) NODE_ARCH=x64 ;;
  arm64) NODE_ARCH=arm64 ;;
  *) die "architecture $ARCH has no node-linux-* runtime package" ;;
esac
CACHE=${TELLTALE_PKG_CACHE:-$REPO/data/pkg-cache}
mkdir -p "$CACHE" "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/telltale-pkg.XXXXXX")
[ "$KEEP" = 1 ] || trap 'rm -rf "$WORK"' EXIT
log() { echo "build-deb: $*" >&2; }
# The Node.js flags on a built entry point's first line (`#!/usr/bin/env -S node FLAGS`),
# each followed by a space, for the wrappers in /usr/bin; empty for a plain `node` shebang.
node_flags() { sed -n '1s|^#!/usr/bin/env -S node \(.*\)$|\1 |p' "$1"; }

# 1. Node runtime: npm's node-linux-ARCH package (bin/node, LICENSE, include/node headers).
NODE_CACHE="$CACHE/node-v$NODE_VERSION-linux-$NODE_ARCH"
if [ ! -x "$NODE_CACHE/bin/node.stripped" ]; then
  log "fetching node-linux-$NODE_ARCH@$NODE_VERSION from the npm registry"
  tmp=$(mktemp -d "$CACHE/.node.XXXXXX")
  (cd "$tmp" && npm pack --silent "node-linux-$NODE_ARCH@$NODE_VERSION" >/dev/null && tar xzf ./*.tgz)
  rm -rf "$NODE_CACHE"
  mv "$tmp/package" "$NODE_CACHE"
  rm -rf "$tmp"
  strip --strip-unneeded -o "$NODE_CACHE/bin/node.stripped" "$NODE_CACHE/bin/node"
fi
BUNDLED_NODE="$NODE_CACHE/bin/node.stripped"
[ "$("$BUNDLED_NODE" -p 'process.versions.node')" = "$NODE_VERSION" ] || die "bundled node is not $NODE_VERSION"

# 2. Production node_modules, native addons compiled against the bundled runtime.
LOCK_HASH=$( (cat "$REPO/package.json" "$REPO/package-lock.json"; echo "$NODE_VERSION $NODE_ARCH"; sed -n '/^# 2\./,/^# 3\./p' "$0") | sha256sum | cut -c1-16)
MODS="$CACHE/modules-$LOCK_HASH"
if [ ! -f "$MODS/.complete" ]; then
  log "staging production node_modules (npm ci --omit=dev)"
  rm -rf "$MODS"
  mkdir -p "$MODS"
  cp "$REPO/package.json" "$REPO/package-lock.json" "$MODS/"
  (cd "$MODS" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
  GYP="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  [ -f "$GYP" ] || die "node-gyp (bundled with npm) not found"
  for addon in cap pcap; do
    log "compiling $addon for node $NODE_VERSION"
    (cd "$MODS/node_modules/$addon" && PATH="$NODE_CACHE/bin:$PATH" "$BUNDLED_NODE" "$GYP" rebuild --nodedir="$NODE_CACHE" --loglevel=error >"$WORK/gyp-$addon.log" 2>&1) \
      || { cat "$WORK/gyp-$addon.log" >&2; die "compiling $addon failed"; }
    rm -rf "$MODS/node_modules/$addon/build/Release/obj.target" "$MODS/node_modules/$addon/build/Release/.deps"
  done
  # Dead weight at run time: prebuilt addons for other platforms (and musl), addon sources
  # and Windows import libraries, tests, examples, docs pages, VCS and lint files.
  find "$MODS/node_modules" -type d -path '*/prebuilds/*' ! -name "linux-$NODE_ARCH" -prune -exec rm -rf {} +
  find "$MODS/node_modules" -name '*.musl.node' -delete
  rm -rf "$MODS/node_modules/cap/deps" "$MODS/node_modules/classic-level/deps" "$MODS/node_modules/fastify/integration" "$MODS/node_modules/fastify/scripts"
  find "$MODS/node_modules" -type d \( -name test -o -name tests -o -name __tests__ -o -name example -o -name examples -o -name benchmark -o -name benchmarks -o -name .github \) -prune -exec rm -rf {} +
  find "$MODS/node_modules" -type f \( -name '.gitattributes' -o -name '.gitignore' -o -name '.npmignore' -o -name '.eslintrc*' -o -name 'eslint.config.*' -o -name '.editorconfig' -o -name '*.html' -o -name '.travis.yml' -o -name '.taprc' \) -delete
  # Nothing in node_modules is run directly: no executable bits; addons stripped.
  find "$MODS/node_modules" -type f -exec chmod 0644 {} +
  find "$MODS/node_modules" -name '*.node' -exec strip --strip-unneeded {} +
  touch "$MODS/.complete"
fi

# 3. The JavaScript, compiled from the tree.
log "compiling TypeScript"
if ! (cd "$REPO" && node node_modules/typescript/bin/tsc -p packaging/tsconfig.release.json --outDir "$WORK/dist" >"$WORK/tsc.log" 2>&1); then
  if [ "$TYPECHECK" = 1 ] || [ ! -f "$WORK/dist/agent/cli/main.js" ]; then cat "$WORK/tsc.log" >&2; die "TypeScript errors"; fi
  log "type errors ignored (--no-typecheck): $(grep -c 'error TS' "$WORK/tsc.log") error(s)"
fi
log "compiling the WebAssembly flow core"
bash "$REPO/scripts/build-flowcore.sh" "$WORK/dist/agent/flowcore/flowcore.wasm" || die "asc failed (agent/flowcore/assembly)"

SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH
DATE=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)

# stage_app PKG DIST_DIRS… : the runtime and the app under ROOT/usr/lib/telltale/<program>/.
stage_app() {
  local root=$1 prog=$2; shift 2
  local lib="$root/usr/lib/telltale/${prog#telltale-}"
  mkdir -p "$lib/app/dist" "$root/usr/bin"
  install -m 0755 "$BUNDLED_NODE" "$lib/node"
  cp "$REPO/package.json" "$lib/app/package.json"
  for d in "$@"; do cp -r "$WORK/dist/$d" "$lib/app/dist/$d"; done
  cp -a "$MODS/node_modules" "$lib/app/node_modules"
  find "$lib/app/node_modules" -name '.package-lock.json' -delete
  local flags
  flags=$(node_flags "$WORK/dist/${prog#telltale-}/cli/main.js")
  cat > "$root/usr/bin/$prog" <<EOF
#!/bin/sh
# $prog, with the Node.js runtime it was tested with (and the flags of main.js's first line).
exec /usr/lib/telltale/${prog#telltale-}/node $flags/usr/lib/telltale/${prog#telltale-}/app/dist/${prog#telltale-}/cli/main.js "\$@"
EOF
  chmod 0755 "$root/usr/bin/$prog"
}

# build_deb PKG USER CONF SUMMARY DESCRIPTION EXTRA_UNITS DEPENDS DIST_DIRS…
build_deb() {
  local pkg=$1 user=$2 conf=$3 summary=$4 description=$5 extra_units=$6 depends=$7; shift 7
  local root="$WORK/$pkg"
  log "assembling $pkg"
  stage_app "$root" "$pkg" "$@"
  local app="$root/usr/lib/telltale/${pkg#telltale-}/app"
  mkdir -p "$root/lib/systemd/system" "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d" \
    "$root/etc/telltale" "$root/usr/share/doc/$pkg" "$root/usr/share/man/man1" "$root/usr/share/lintian/overrides" "$root/DEBIAN"
  for u in "$REPO/systemd/$pkg.service" "$REPO/systemd/$pkg@.service"; do
    [ -f "$u" ] && install -m 0644 "$u" "$root/lib/systemd/system/"
  done
  install -m 0644 "$REPO/systemd/sysusers.d/$pkg.conf" "$root/usr/lib/sysusers.d/$pkg.conf"
  install -m 0644 "$REPO/systemd/tmpfiles.d/$pkg.conf" "$root/usr/lib/tmpfiles.d/$pkg.conf"
  install -m 0644 "$PKGDIR/config/$conf" "$root/etc/telltale/$conf"
  install -m 0644 "$REPO/docs/operations.md" "$root/usr/share/doc/$pkg/operations.md"
  install -m 0644 "$NODE_CACHE/LICENSE" "$root/usr/share/doc/$pkg/node-LICENSE"
  sed -e "s/@PKG@/$pkg/g" -e "s/@YEAR@/$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y)/g" "$PKGDIR/debian/copyright" > "$root/usr/share/doc/$pkg/copyright"
  printf '%s (%s) stable; urgency=medium\n\n  * Release %s, built from the Telltale tree.\n\n -- Telltale maintainers <maintainers@telltale.invalid>  %s\n' \
    "$pkg" "$VERSION" "$VERSION" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")" | gzip -9n > "$root/usr/share/doc/$pkg/changelog.gz"
  "$BUNDLED_NODE" "$PKGDIR/help-to-man.mjs" --prog "$pkg" --main "$app/dist/${pkg#telltale-}/cli/main.js" --version "$VERSION" --date "$DATE" \
    | gzip -9n > "$root/usr/share/man/man1/$pkg.1.gz"
  install -m 0644 "$PKGDIR/debian/$pkg.lintian-overrides" "$root/usr/share/lintian/overrides/$pkg"

  for s in postinst prerm postrm; do
    sed -e "s/@PKG@/$pkg/g" -e "s/@USER@/$user/g" -e "s/@CONF@/$conf/g" -e "s/@EXTRA_UNITS@/$extra_units/g" \
      "$PKGDIR/debian/$s" > "$root/DEBIAN/$s"
    chmod 0755 "$root/DEBIAN/$s"
  done
  echo "/etc/telltale/$conf" > "$root/DEBIAN/conffiles"
  # Normalised permissions: directories 0755, files 0644 unless executable.
  find "$root" -path "$root/DEBIAN" -prune -o -type d -exec chmod 0755 {} +
  find "$root" -path "$root/DEBIAN" -prune -o -type f -perm /111 -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum > DEBIAN/md5sums)
  local size
  size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
  local desc_body
  desc_body=$(printf '%s\n' "$description" | sed 's/^/ /; s/^ $/ ./')
  awk -v pkg="$pkg" -v ver="$VERSION" -v arch="$ARCH" -v size="$size" -v dep="$depends" -v sum="$summary" -v body="$desc_body" '
    { gsub(/@PKG@/, pkg); gsub(/@VERSION@/, ver); gsub(/@ARCH@/, arch); gsub(/@SIZE@/, size); gsub(/@DEPENDS@/, dep); gsub(/@SUMMARY@/, sum)
      if ($0 == "@DESCRIPTION@") print body; else print }' "$PKGDIR/debian/control.in" > "$root/DEBIAN/control"
  local z=(-Z"$COMPRESS")
  [ "$COMPRESS" = xz ] && z+=(-z6)
  dpkg-deb --root-owner-group "${z[@]}" --build "$root" "$OUT/${pkg}_${VERSION}_${ARCH}.deb" >/dev/null
  log "built $OUT/${pkg}_${VERSION}_${ARCH}.deb ($(du -h "$OUT/${pkg}_${VERSION}_${ARCH}.deb" | cut -f1))"
}

COMMON_DEPS="libc6 (>= 2.28), libgcc-s1, libstdc++6, systemd (>= 246)"
build_deb telltale-agent telltale agent.yaml \
  "passive network sensor agent (flows, logs, assets)" \
  "Captures packets on live interfaces and reads log files and the journal,
summarises them into Zeek-grade flow records, application events and host
observations, and ships them to a Telltale collector through a durable spool.
Runs as the unprivileged user telltale with CAP_NET_RAW and CAP_NET_ADMIN only.

Bundles the Node.js runtime it is tested with." \
  "'telltale-agent@*.service'" "libpcap0.8 (>= 1.8), $COMMON_DEPS" agent protocol

build_deb telltale-collector telltale-collector collector.yaml \
  "Telltale collector (ingest, topology, REST API)" \
  "Receives flow batches from Telltale agents, stores them, merges one
network topology and serves the REST API.

Bundles the Node.js runtime it is tested with." \
  "" "$COMMON_DEPS" collector protocol

if [ "$TARBALL" = 1 ]; then
  name="telltale-$VERSION-linux-$NODE_ARCH"
  t="$WORK/tar/$name"
  mkdir -p "$t/bin" "$t/lib" "$t/systemd" "$t/etc"
  for p in agent collector; do
    cp -a "$WORK/telltale-$p/usr/lib/telltale/$p" "$t/lib/$p"
    flags=$(node_flags "$WORK/dist/$p/cli/main.js")
    cat > "$t/bin/telltale-$p" <<EOF
#!/bin/sh
here=\$(dirname "\$(readlink -f "\$0")")/..
exec "\$here/lib/$p/node" $flags"\$here/lib/$p/app/dist/$p/cli/main.js" "\$@"
EOF
    chmod 0755 "$t/bin/telltale-$p"
  done
  cp -r "$REPO/systemd/." "$t/systemd/"
  cp "$PKGDIR/config/agent.yaml" "$PKGDIR/config/collector.yaml" "$t/etc/"
  cp "$REPO/docs/operations.md" "$t/"
  tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner -C "$WORK/tar" -czf "$OUT/$name.tar.gz" "$name"
  log "built $OUT/$name.tar.gz ($(du -h "$OUT/$name.tar.gz" | cut -f1))"
fi
