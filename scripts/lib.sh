# Shared by the scripts: paths, logging, and the offline worker-build overrides.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
export WRANGLER_SEND_METRICS=false
log() { printf '\033[1m[rooom]\033[0m %s\n' "$*" >&2; }
