#!/usr/bin/env bash
# The Temporal UI as production runs it: users log in through OpenID Connect, and the UI passes
# their access token to the broker's codec endpoint (codec.passAccessToken), which checks it
# against the provider's keys (CODEC_AUTH=oidc). Three processes:
#   oidc-provider        an OpenID provider (oidc-provider.ts) with static users and clients
#   codec-proxy          nginx terminating TLS in front of the broker's /codec at BROKER_OIDC_PORT
#                        (the UI sends a token only to an https:// codec endpoint)
#   temporal-ui-oidc     Temporal's UI server (install.sh builds it) against the stack's Temporal,
#                        logged in through that provider, decoding through codec-proxy
#   oidc.sh up     starts both (idempotent) and writes their settings to $STACK_DIR/oidc/env
#   oidc.sh down   stops them (by their pid files)
# up.sh runs `up` and copies the settings into $STACK_DIR/env; down.sh runs `down`.
source "$(dirname "$0")/lib.sh"
source "$STACK_SCRIPTS/pki.sh"

OIDC_DIR=$STACK_DIR/oidc
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
CODEC_URL=https://$STACK_HOST:$CODEC_TLS_PORT/codec
ISSUER=http://$STACK_HOST:$OIDC_PORT
UI_URL=http://$STACK_HOST:$TEMPORAL_UI_OIDC_PORT
# Resource indicators (absolute URIs, RFC 8707): the access tokens' audience.
CODEC_AUDIENCE=urn:kubernetes-broker:codec
OTHER_AUDIENCE=urn:kubernetes-broker:another-api
OPERATORS_GROUP=temporal-operators

# A secret made once per stack folder, readable only by its owner: passwords and client secrets.
secret() {
  local file=$OIDC_DIR/secrets/$1
  if [[ ! -s $file ]]; then (umask 077 && mkdir -p "$OIDC_DIR/secrets" && openssl rand -hex 16 >"$file"); fi
  cat "$file"
}

write_provider_config() {
  # Clients: the Temporal UI (a user logs in); and for tests, clients that get tokens for
  # themselves (client credentials): one in the operators' group, one in none, one whose tokens
  # expire after a second.
  cat >"$OIDC_DIR/provider.json" <<JSON
{
  "issuer": "$ISSUER",
  "host": "$STACK_HOST",
  "port": $OIDC_PORT,
  "resources": ["$CODEC_AUDIENCE", "$OTHER_AUDIENCE"],
  "cookie_keys": ["$(secret cookie-key)"],
  "users": [
    { "id": "operator", "username": "operator", "password": "$(secret operator-password)", "email": "operator@kb.local", "name": "Stack Operator", "groups": ["$OPERATORS_GROUP"] }
  ],
  "clients": [
    { "client_id": "temporal-ui", "client_secret": "$(secret temporal-ui)", "grant_types": ["authorization_code"], "redirect_uris": ["$UI_URL/auth/sso/callback"] },
    { "client_id": "codec-operator", "client_secret": "$(secret codec-operator)", "grant_types": ["client_credentials"], "groups": ["$OPERATORS_GROUP"] },
    { "client_id": "codec-outsider", "client_secret": "$(secret codec-outsider)", "grant_types": ["client_credentials"], "groups": ["developers"] },
    { "client_id": "codec-expiring", "client_secret": "$(secret codec-expiring)", "grant_types": ["client_credentials"], "groups": ["$OPERATORS_GROUP"], "access_token_ttl": 1 }
  ]
}
JSON
}

write_ui_config() {
  mkdir -p "$OIDC_DIR/ui/config"
  cat >"$OIDC_DIR/ui/config/stack.yaml" <<YAML
# Written by scripts/stack/oidc.sh: Temporal's UI server, logged in through the stack's OpenID provider.
temporalGrpcAddress: $STACK_HOST:$TEMPORAL_PORT
host: $STACK_HOST
port: $TEMPORAL_UI_OIDC_PORT
enableUi: true
defaultNamespace: default
disableNewsFetch: true
notifyOnNewVersion: false
cors:
  cookieInsecure: true # plain http on 127.0.0.1
  allowOrigins: ["$UI_URL"]
auth:
  enabled: true
  redirectToProvider: true
  providers:
    - label: kubernetes-broker local stack
      type: oidc
      providerUrl: $ISSUER
      clientId: temporal-ui
      clientSecret: $(secret temporal-ui)
      scopes: [openid, profile, email, groups, codec]
      callbackUrl: $UI_URL/auth/sso/callback
codec:
  endpoint: $CODEC_URL
  passAccessToken: true
YAML
}

# The TLS certificate is the stack's proxy certificate (pki.sh; valid for 127.0.0.1). While no
# broker listens behind it, nginx answers 502.
write_codec_proxy_config() {
  mkdir -p "$OIDC_DIR/codec-proxy/tmp"
  cat >"$OIDC_DIR/codec-proxy/nginx.conf" <<CONF
# Written by scripts/stack/oidc.sh.
daemon off;
worker_processes 1;
pid $OIDC_DIR/codec-proxy/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $OIDC_DIR/codec-proxy/tmp/body;
  proxy_temp_path $OIDC_DIR/codec-proxy/tmp/proxy;
  fastcgi_temp_path $OIDC_DIR/codec-proxy/tmp/fastcgi;
  uwsgi_temp_path $OIDC_DIR/codec-proxy/tmp/uwsgi;
  scgi_temp_path $OIDC_DIR/codec-proxy/tmp/scgi;
  client_max_body_size 8m;
  server {
    listen $STACK_HOST:$CODEC_TLS_PORT ssl;
    ssl_certificate $PKI_DIR/temporal-proxy.crt;
    ssl_certificate_key $PKI_DIR/temporal-proxy.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location /codec/ { proxy_pass http://$STACK_HOST:$BROKER_OIDC_PORT; }
    location = /healthz { return 200 "ok\\n"; }
  }
}
CONF
}

up() {
  [[ -x $TEMPORAL_UI_SERVER_DIR/bin/temporal-ui-server ]] || die "the Temporal UI server is not built; scripts/stack/install.sh builds it"
  [[ -d $REPO_ROOT/node_modules/oidc-provider ]] || die "oidc-provider is not installed: run npm ci first"
  mkdir -p "$LOG_DIR" "$PID_DIR" "$OIDC_DIR"
  make_temporal_pki
  write_provider_config
  write_ui_config
  write_codec_proxy_config
  "$NGINX" -t -q -c "$OIDC_DIR/codec-proxy/nginx.conf" -p "$OIDC_DIR/codec-proxy" -e stderr || die "nginx refused $OIDC_DIR/codec-proxy/nginx.conf (see above)"
  ensure codec-proxy 30 curl -fsS --cacert "$PKI_DIR/ca.crt" "https://$STACK_HOST:$CODEC_TLS_PORT/healthz" ::: "$CODEC_TLS_PORT" -- \
    "$NGINX" -c "$OIDC_DIR/codec-proxy/nginx.conf" -p "$OIDC_DIR/codec-proxy" -e stderr
  ensure oidc-provider 30 curl -fsS "$ISSUER/.well-known/openid-configuration" ::: "$OIDC_PORT" -- \
    env -C "$REPO_ROOT" node --import tsx "$STACK_SCRIPTS/oidc-provider.ts" "$OIDC_DIR/provider.json"
  # The UI server reads the provider's discovery document at start: the provider comes first.
  ensure temporal-ui-oidc 30 curl -fsS "$UI_URL/healthz" ::: "$TEMPORAL_UI_OIDC_PORT" -- \
    "$TEMPORAL_UI_SERVER_DIR/bin/temporal-ui-server" --root "$OIDC_DIR/ui" --config config --env stack start
  cat >"$OIDC_DIR/env" <<ENV
# The Temporal UI behind an OIDC login (scripts/stack/oidc.sh); it decodes through the broker's
# /codec at KB_BROKER_OIDC_PORT (through TLS), started with CODEC_AUTH=oidc and the KB_OIDC_* settings below.
KB_TEMPORAL_UI_OIDC_URL=$UI_URL
KB_BROKER_OIDC_PORT=$BROKER_OIDC_PORT
# The codec endpoint the UI calls: TLS (the stack's CA, KB_TEMPORAL_TLS_CA) in front of that port.
KB_OIDC_CODEC_URL=$CODEC_URL
KB_OIDC_CODEC_TLS_CERT=$PKI_DIR/temporal-proxy.crt
KB_OIDC_ISSUER=$ISSUER
KB_OIDC_CODEC_AUDIENCE=$CODEC_AUDIENCE
KB_OIDC_OTHER_AUDIENCE=$OTHER_AUDIENCE
KB_OIDC_OPERATORS_GROUP=$OPERATORS_GROUP
KB_OIDC_USER=operator
KB_OIDC_PASSWORD=$(secret operator-password)
KB_OIDC_CLIENT_OPERATOR=codec-operator:$(secret codec-operator)
KB_OIDC_CLIENT_OUTSIDER=codec-outsider:$(secret codec-outsider)
KB_OIDC_CLIENT_EXPIRING=codec-expiring:$(secret codec-expiring)
ENV
}

case ${1:-} in
  up) up ;;
  down) stop temporal-ui-oidc; stop codec-proxy; stop oidc-provider; rm -f "$OIDC_DIR/env" ;;
  *) die "usage: oidc.sh up|down" ;;
esac
