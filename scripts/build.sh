#!/usr/bin/env bash
# Release build of the Worker into build/, skipped when no input changed since the last one.
source "$(dirname "$0")/lib.sh"

stamp=$(cat Cargo.toml Cargo.lock build.rs openapi.json wrangler.toml \
  $(find src templates -type f | sort) | sha256sum | cut -c1-16)
if [ -f build/.stamp ] && [ "$(cat build/.stamp)" = "$stamp" ] && [ -f build/worker/shim.mjs ]; then
  log "build is up to date"
  exit 0
fi
log "building the Worker (release)"
# worker-build would download these; the machine is offline, so point it at local ones.
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild"
worker-build --release
# Drop the function-name section worker-build leaves in (about 160 KB): the wasm keeps
# its target-features section through the build this way, and loses it only here.
wasm-opt build/index_bg.wasm --strip-debug --strip-producers --strip-target-features -o build/index_bg.wasm
echo "$stamp" > build/.stamp
