#!/usr/bin/env bash
# Installs the system packages the stack and tests need, when missing and when we can.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ "${CRM_SKIP_BROWSER:-}" = "" ] && [ ! -x /usr/bin/chromium ]; then need+=(chromium); fi
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)  # the nginx config tests
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing system packages: ${need[*]}. Install them (e.g. sudo apt-get install -y ${need[*]})." >&2
  exit 1
fi
echo "Installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${need[@]}" >/dev/null
