#!/bin/sh
# Run by the official nginx image's entrypoint after it rendered /etc/nginx/templates/ into
# conf.d/ (20-envsubst-on-templates.sh), and by scripts/nginx_conf.py for `make run` and the
# tests. Keeps exactly one of the gateway's two server sets (nginx/README.md):
#   certs/fullchain.pem and certs/privkey.pem both present -> prosaas-tls.conf (HTTPS)
#   neither                                                 -> prosaas-plain.conf (HTTP)
#   only one                                                -> refuse to start
# and refuses to start when a variable was left unrendered (envsubst keeps ${NAME} as it is
# when NAME is not set; SERVER_NAME has no default).
set -eu
conf_dir="${NGINX_CONF_DIR:-/etc/nginx}"
out_dir="${NGINX_ENVSUBST_OUTPUT_DIR:-$conf_dir/conf.d}"
cert="$conf_dir/certs/fullchain.pem"
key="$conf_dir/certs/privkey.pem"
me="40-prosaas-tls.sh"

plain="$out_dir/prosaas-plain.conf"
tls="$out_dir/prosaas-tls.conf"

if [ ! -f "$plain" ] && [ ! -f "$tls" ]; then
    echo "$me: neither $plain nor $tls exists: were the templates rendered?" >&2
    exit 1
elif [ -f "$plain" ] && [ -f "$tls" ]; then
    if [ -f "$cert" ] && [ -f "$key" ]; then
        rm -f "$plain"
        echo "$me: TLS on (certificate $cert); plain HTTP answers /health and redirects the rest"
    elif [ -e "$cert" ] || [ -e "$key" ]; then
        echo "$me: only one of $cert and $key exists: mount both for TLS, or neither for plain HTTP" >&2
        exit 1
    else
        rm -f "$tls"
        echo "$me: plain HTTP (no certificate in $conf_dir/certs/)"
    fi
fi  # else one set is left: chosen before (an unchanged conf.d)
left=$(grep -ho '\${[A-Za-z_][A-Za-z0-9_]*}' "$out_dir"/prosaas*.conf | sort -u | tr '\n' ' ' || true)
if [ -n "$left" ]; then
    echo "$me: unset environment variable(s) in the gateway's configuration: $left" >&2
    exit 1
fi
