#!/usr/bin/env bash
# Sets up, builds, then runs every test: native unit tests, then the end-to-end and
# browser suites against the real Worker under workerd on a fresh state directory.
source "$(dirname "$0")/lib.sh"

bash scripts/setup.sh
if [ ! -x /usr/bin/chromium ]; then
  log "installing Chromium for the browser tests"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium sqlite3 >/dev/null
fi
if ! command -v sqlite3 >/dev/null; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq sqlite3 >/dev/null
fi
bash scripts/build.sh

log "native unit tests"
cargo test --lib --quiet
log "end-to-end and browser tests"
node tests/run.mjs "$@"
