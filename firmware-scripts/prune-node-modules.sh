#!/usr/bin/env bash
# Removes from a device's node_modules what npm leaves there but the agent never loads, and
# prints the size before and after. install.sh runs it after `npm ci`; it is a script of its own
# so that tests can run it on a small tree.
#
# usage: prune-node-modules.sh NODE_MODULES_DIR NODE_ARCH     (NODE_ARCH: x64, arm64 or arm)
#
# - better-sqlite3: compiling it (no prebuilt binary for the board, or no access to the prebuilt
#   download) leaves object files, makefiles and the SQLite sources (~25 MB). The agent loads
#   build/Release/better_sqlite3.node only.
# - onnxruntime-node: ships libonnxruntime for every OS and CPU it supports (~70 MB on Linux
#   alone, ~290 MB in all); this CPU loads bin/napi-v*/linux/NODE_ARCH only.
# - onnxruntime-web (32-bit ARM, or --with-wasm): ~140 MB of builds for browsers (WebGL, WebGPU,
#   JSPI, asyncify), their source maps and TypeScript sources. Under Node the agent loads the
#   package's "node" entry (dist/ort.node.min.*) and the plain SIMD-threaded WASM runtime that
#   runtime/wasm-backend.ts names (dist/ort-wasm-simd-threaded.{mjs,wasm}): ~15 MB.
set -Eeuo pipefail

say() { printf '[edgeloop install] %s\n' "$*"; }
die() { printf '[edgeloop install] error: %s\n' "$*" >&2; exit 1; }

[[ $# -eq 2 ]] || die "usage: $0 NODE_MODULES_DIR NODE_ARCH (x64, arm64 or arm)"
MODULES=$1 ARCH=$2
[[ -d $MODULES ]] || die "$MODULES is not a directory"
case $ARCH in x64 | arm64 | arm) ;; *) die "unknown NODE_ARCH '$ARCH' (x64, arm64 or arm)" ;; esac

# MB of 2^20 bytes, one decimal, as du counts them (a hard link once).
size_mb() { du -sk "$1" | awk '{ printf "%.1f", $1 / 1024 }'; }

prune_better_sqlite3() {
  local pkg=$MODULES/better-sqlite3 binary
  [[ -d $pkg ]] || return 0
  binary=$pkg/build/Release/better_sqlite3.node
  # Without the binary the agent cannot open its database: stop rather than prune a broken install.
  [[ -f $binary ]] || die "$binary is missing: better-sqlite3 did not build; nothing was pruned"
  find "$pkg/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
  find "$pkg/build/Release" -mindepth 1 -maxdepth 1 ! -name better_sqlite3.node -exec rm -rf {} +
  rm -rf "$pkg/deps" "$pkg/src" "$pkg/binding.gyp"
}

prune_onnxruntime_node() {
  local pkg=$MODULES/onnxruntime-node napi os cpu
  [[ -d $pkg/bin ]] || return 0
  for napi in "$pkg"/bin/napi-v*; do
    [[ -d $napi ]] || continue
    for os in "$napi"/*; do
      if [[ ${os##*/} != linux ]]; then rm -rf "$os"; continue; fi
      for cpu in "$os"/*; do
        if [[ ${cpu##*/} != "$ARCH" ]]; then rm -rf "$cpu"; fi
      done
    done
  done
}

# Keeps only the files named above; a release that names them otherwise is left whole (with a
# warning) rather than pruned into a package that cannot load.
prune_onnxruntime_web() {
  local pkg=$MODULES/onnxruntime-web file
  [[ -d $pkg/dist ]] || return 0
  local keep=(ort.node.min.mjs ort.node.min.js ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm)
  for file in "${keep[@]}"; do
    if [[ ! -f $pkg/dist/$file ]]; then
      say "warning: onnxruntime-web has no dist/$file; not pruning it (~140 MB stay)"
      return 0
    fi
  done
  for file in "$pkg"/dist/*; do
    if [[ " ${keep[*]} " != *" ${file##*/} "* ]]; then rm -rf "$file"; fi
  done
  rm -rf "${pkg:?}/lib" "${pkg:?}/docs"
}

before=$(size_mb "$MODULES")
prune_better_sqlite3
prune_onnxruntime_node
prune_onnxruntime_web
say "node_modules: $before MB as npm ci laid it down, $(size_mb "$MODULES") MB after removing build leftovers and other platforms' binaries"
