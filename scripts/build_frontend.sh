#!/usr/bin/env bash
# Builds the web app into frontend/dist (served by the gateway at /).
set -euo pipefail
cd "$(dirname "$0")/../frontend"
if [ ! -f package.json ]; then echo "no frontend/package.json: skipping the UI build"; exit 0; fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run build --silent
