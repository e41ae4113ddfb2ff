#!/usr/bin/env bash
# Builds the web app into frontend/dist (served by the gateway at /).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -f "$root/frontend/package.json" ]; then echo "no frontend/package.json: skipping the UI build"; exit 0; fi
cd "$root/frontend"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run build --silent
