#!/usr/bin/env bash
# Temporal behind TLS, as in production: nginx terminates TLS in front of the stack's Temporal dev
# server and passes gRPC on. Two listeners: one requires a client certificate signed by the
# stack's CA (mTLS, as self-hosted Temporal or Temporal Cloud with certificates), the other an
# API key in the authorization header (as Temporal Cloud with API keys).
#   temporal-proxy.sh up     starts it (idempotent) and writes its settings to $STACK_DIR/temporal-proxy/env
#   temporal-proxy.sh down   stops it (by its pid file)
# up.sh runs `up` last and copies the settings into $STACK_DIR/env; down.sh runs `down`.
source "$(dirname "$0")/lib.sh"
source "$STACK_SCRIPTS/pki.sh"

PROXY_DIR=$STACK_DIR/temporal-proxy
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
PKI=$PKI_DIR

# The API key: made once per stack folder, readable only by its owner.
api_key() {
  local file=$PROXY_DIR/api-key
  if [[ ! -s $file ]]; then (umask 077 && openssl rand -hex 24 >"$file"); fi
  cat "$file"
}

write_config() {
  local key=$1
  mkdir -p "$PROXY_DIR/tmp"
  cat >"$PROXY_DIR/nginx.conf" <<CONF
# Written by scripts/stack/temporal-proxy.sh.
daemon off;
worker_processes 1;
pid $PROXY_DIR/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $PROXY_DIR/tmp/body;
  proxy_temp_path $PROXY_DIR/tmp/proxy;
  fastcgi_temp_path $PROXY_DIR/tmp/fastcgi;
  uwsgi_temp_path $PROXY_DIR/tmp/uwsgi;
  scgi_temp_path $PROXY_DIR/tmp/scgi;
  # Workers' long polls hold a request for up to 70 s; payloads have no size limit of nginx's.
  grpc_read_timeout 300s;
  grpc_send_timeout 300s;
  client_body_timeout 300s;
  client_max_body_size 0;
  keepalive_timeout 600s;
  keepalive_requests 1000000;
  ssl_certificate $PKI/temporal-proxy.crt;
  ssl_certificate_key $PKI/temporal-proxy.key;
  ssl_protocols TLSv1.2 TLSv1.3;

  # A client certificate signed by the stack's CA. nginx checks it after the handshake and answers
  # a missing (496) or refused (495) one in HTML; say it in gRPC instead, as status 16 (UNAUTHENTICATED).
  server {
    listen $STACK_HOST:$TEMPORAL_MTLS_PORT ssl http2;
    ssl_client_certificate $PKI/ca.crt;
    ssl_verify_client on;
    ssl_verify_depth 1;
    error_page 495 = @refused;
    error_page 496 = @missing;
    location / { grpc_pass grpc://$STACK_HOST:$TEMPORAL_PORT; }
    location @missing {
      default_type application/grpc;
      add_header grpc-status 16 always;
      add_header grpc-message "client certificate required: none was sent" always;
      return 200;
    }
    location @refused {
      default_type application/grpc;
      add_header grpc-status 16 always;
      add_header grpc-message "client certificate refused: \$ssl_client_verify" always;
      return 200;
    }
  }

  # TLS without client certificates; every call carries "authorization: Bearer <key>", or is
  # answered as Temporal Cloud answers it: gRPC status 16 (UNAUTHENTICATED).
  server {
    listen $STACK_HOST:$TEMPORAL_APIKEY_PORT ssl http2;
    location / {
      if (\$http_authorization != "Bearer $key") { return 418; }
      grpc_pass grpc://$STACK_HOST:$TEMPORAL_PORT;
      error_page 418 = @unauthenticated;
    }
    location @unauthenticated {
      default_type application/grpc;
      add_header grpc-status 16 always;
      add_header grpc-message "Request unauthorized: missing or wrong API key" always;
      return 200;
    }
  }
}
CONF
}

up() {
  [[ -x $NGINX ]] || die "nginx is not on PATH; scripts/stack/install.sh installs it"
  mkdir -p "$LOG_DIR" "$PID_DIR" "$PROXY_DIR"
  make_temporal_pki
  local key; key=$(api_key)
  write_config "$key"
  "$NGINX" -t -q -c "$PROXY_DIR/nginx.conf" -p "$PROXY_DIR" -e stderr || die "nginx refused $PROXY_DIR/nginx.conf (see above)"
  local temporal=("$TEMPORAL_DIR/bin/temporal" operator cluster health --tls-ca-path "$PKI/ca.crt" --command-timeout 2s)
  # Healthy: Temporal's own CLI reaches Temporal through both listeners.
  healthy() {
    "${temporal[@]}" --address "$STACK_HOST:$TEMPORAL_MTLS_PORT" --tls-cert-path "$PKI/temporal-client.crt" --tls-key-path "$PKI/temporal-client.key" &&
      "${temporal[@]}" --address "$STACK_HOST:$TEMPORAL_APIKEY_PORT" --api-key "$key"
  }
  ensure temporal-proxy 30 healthy ::: "$TEMPORAL_MTLS_PORT" "$TEMPORAL_APIKEY_PORT" -- \
    "$NGINX" -c "$PROXY_DIR/nginx.conf" -p "$PROXY_DIR" -e stderr
  cat >"$PROXY_DIR/env" <<ENV
# Temporal behind TLS (scripts/stack/temporal-proxy.sh). Not TEMPORAL_* names: the broker would read
# those; a test maps them onto TEMPORAL_ADDRESS, TEMPORAL_TLS_* and TEMPORAL_API_KEY.
KB_TEMPORAL_MTLS_ADDRESS=$STACK_HOST:$TEMPORAL_MTLS_PORT
KB_TEMPORAL_APIKEY_ADDRESS=$STACK_HOST:$TEMPORAL_APIKEY_PORT
KB_TEMPORAL_API_KEY=$key
KB_TEMPORAL_TLS_NAME=$TEMPORAL_TLS_NAME
KB_TEMPORAL_TLS_CA=$PKI/ca.crt
KB_TEMPORAL_TLS_CLIENT_CERT=$PKI/temporal-client.crt
KB_TEMPORAL_TLS_CLIENT_KEY=$PKI/temporal-client.key
# Another CA, and a client certificate it signed: the mTLS listener refuses that one.
KB_TEMPORAL_TLS_OTHER_CA=$PKI/other-ca.crt
KB_TEMPORAL_TLS_OTHER_CLIENT_CERT=$PKI/temporal-client-other.crt
KB_TEMPORAL_TLS_OTHER_CLIENT_KEY=$PKI/temporal-client-other.key
ENV
}

case ${1:-} in
  up) up ;;
  down) stop temporal-proxy; rm -f "$PROXY_DIR/env" ;;
  *) die "usage: temporal-proxy.sh up|down" ;;
esac
