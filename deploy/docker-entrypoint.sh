#!/bin/sh
# Entrypoint of every Mini CRM image. $SERVICE is baked in by deploy/Dockerfile.
#   api                 -> uvicorn --factory services.$SERVICE.app:create_app on $PORT
#   worker [args...]    -> python -m services.$SERVICE.worker [args...]
#   anything else       -> run as given (a shell, a one-off script)
set -eu

: "${SERVICE:?SERVICE is not set (build the image with --build-arg SERVICE=...)}"

# Placeholder secrets from deploy/k8s or .env.example must never reach a running service.
for name in INTERNAL_TOKEN GATEWAY_SESSION_SECRET VENDOR_WEBHOOK_SECRET; do
    eval "value=\${$name:-}"
    case "$value" in
        *REPLACE_ME*)
            echo "refusing to start: $name still holds a placeholder (REPLACE_ME)" >&2
            exit 64
            ;;
    esac
done

role="${1:-api}"
case "$role" in
    api)
        shift $(( $# > 0 ? 1 : 0 ))
        exec uvicorn --factory "services.${SERVICE}.app:create_app" \
            --host "${HOST:-0.0.0.0}" --port "${PORT:?PORT is not set}" \
            --proxy-headers --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-*}" \
            --no-access-log --timeout-graceful-shutdown "${GRACEFUL_SHUTDOWN_S:-20}" "$@"
        ;;
    worker)
        shift
        exec python -m "services.${SERVICE}.worker" "$@"
        ;;
    *)
        exec "$@"
        ;;
esac
