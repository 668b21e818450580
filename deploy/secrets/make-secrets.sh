#!/usr/bin/env bash
# Prints the Secrets the manifests mount, for `| kubectl apply -f -`; nothing secret is kept in git.
#
#   deploy/secrets/make-secrets.sh [--namespace lowlatency] [--jwks FILE]
#                                  [--tls-cert FILE --tls-key FILE --client-ca FILE] | kubectl apply -f -
#
# lowlatency-api-keys   keys client (scope infer:*) and admin (scope admin), read by the Deployment as
#                       LowLatency:Auth:ApiKeys (and by the KServe ServingRuntime). Random, 32 bytes,
#                       base64 (openssl), unless LOWLATENCY_CLIENT_KEY / LOWLATENCY_ADMIN_KEY are set.
#                       Read one back: kubectl -n lowlatency get secret lowlatency-api-keys \
#                                        -o jsonpath='{.data.client}' | base64 -d
# lowlatency-jwt        with --jwks: jwks.json, the issuer's public keys (components/jwt)
# lowlatency-tls        with --tls-*: tls.crt, tls.key and ca.crt, the server's certificate, its key
#                       and the CA client certificates must chain to (components/mtls); a
#                       cert-manager Certificate can write the same Secret instead
#
# Runs offline: kubectl create --dry-run=client needs no cluster.
set -euo pipefail

namespace=lowlatency
jwks='' tls_cert='' tls_key='' client_ca=''
while (($#)); do
    case "$1" in
        --namespace) namespace="$2"; shift 2 ;;
        --jwks) jwks="$2"; shift 2 ;;
        --tls-cert) tls_cert="$2"; shift 2 ;;
        --tls-key) tls_key="$2"; shift 2 ;;
        --client-ca) client_ca="$2"; shift 2 ;;
        *) echo "make-secrets.sh: unknown argument $1 (see the comment at the top)" >&2; exit 2 ;;
    esac
done

# The server refuses keys under 16 characters; 32 random bytes in base64 are 44.
new_key() { openssl rand -base64 32; }
client_key="${LOWLATENCY_CLIENT_KEY:-$(new_key)}"
admin_key="${LOWLATENCY_ADMIN_KEY:-$(new_key)}"

secret() { kubectl create secret generic "$@" --namespace "$namespace" --dry-run=client -o yaml; }

secret lowlatency-api-keys --from-literal=client="$client_key" --from-literal=admin="$admin_key"
if [[ -n "$jwks" ]]; then
    echo '---'
    secret lowlatency-jwt --from-file=jwks.json="$jwks"
fi
if [[ -n "$tls_cert$tls_key$client_ca" ]]; then
    if [[ -z "$tls_cert" || -z "$tls_key" || -z "$client_ca" ]]; then
        echo 'make-secrets.sh: --tls-cert, --tls-key and --client-ca go together' >&2
        exit 2
    fi
    echo '---'
    secret lowlatency-tls --type=kubernetes.io/tls \
        --from-file=tls.crt="$tls_cert" --from-file=tls.key="$tls_key" --from-file=ca.crt="$client_ca"
fi
