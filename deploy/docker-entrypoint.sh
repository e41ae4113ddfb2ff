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

# The gateway reads X-Forwarded-* itself, trusting only GATEWAY_TRUSTED_PROXY_HOPS hops:
# uvicorn trusting them from anyone ("*") let a client pick its own address.
if [ "$SERVICE" = "gateway" ]; then
    proxy_flags="--no-proxy-headers"
else
    proxy_flags="--proxy-headers --forwarded-allow-ips ${FORWARDED_ALLOW_IPS:-127.0.0.1}"
fi

role="${1:-api}"
case "$role" in
    api)
        shift $(( $# > 0 ? 1 : 0 ))
        # shellcheck disable=SC2086  # proxy_flags is a list of words
        exec uvicorn --factory "services.${SERVICE}.app:create_app" \
            --host "${HOST:-0.0.0.0}" --port "${PORT:?PORT is not set}" \
            $proxy_flags \
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
