#!/usr/bin/env bash
# Sets up, builds, migrates and runs rooom locally under `wrangler dev`.
source "$(dirname "$0")/lib.sh"
PORT="${PORT:-8787}"
STATE_DIR="${STATE_DIR:-.wrangler/state}"

bash scripts/setup.sh
bash scripts/build.sh
log "applying D1 migrations to $STATE_DIR"
CI=true wrangler d1 migrations apply DB --local --persist-to "$STATE_DIR" >/dev/null
cat >&2 <<MSG

  rooom is starting on port $PORT (state in $STATE_DIR)

    Sign up:       http://localhost:$PORT/signup
    API:           http://localhost:$PORT/api/v1  (OpenAPI: /api/v1/openapi.json)
    Dev outbox:    http://localhost:$PORT/api/v1/dev/outbox   (mail lands here locally)
    Your tenant:   http://<username>.localhost:$PORT/

MSG
exec wrangler dev --port "$PORT" --ip 127.0.0.1 --persist-to "$STATE_DIR" \
  --var "APP_HOST:localhost:$PORT" --var "USER_DOMAIN:localhost:$PORT" \
  --show-interactive-dev-session=false
