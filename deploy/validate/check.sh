#!/usr/bin/env bash
# Offline validation of deploy/: `dotnet pwsh build.ps1 deploy-check`, and in CI (.ci/run).
#  1. the validator's own negative test: every manifest in deploy/validate/broken is rejected for
#     the fault it names (wrong type, missing field, misspelled field, grace period, ...)
#  2. kubectl kustomize renders every overlay, example and the KServe manifests, and the Secrets
#     make-secrets.sh prints; validate.mjs checks every object (schema, unknown fields, the
#     server's rules)
#  3. promtool parses the Prometheus adapter's queries, which the autoscaler depends on
#  4. yamllint --strict on every YAML file of the repository
# Needs kubectl, node and npm; installs yamllint with apt-get when missing (as root), the npm
# packages into deploy/validate/node_modules (ignored by git, kept between runs), and takes promtool
# out of Debian's prometheus package without installing it (no server to start), kept in
# ~/.cache/lowlatency.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=out/deploy
rm -rf "$out" && mkdir -p "$out/rendered"

for tool in kubectl node npm openssl; do
    command -v "$tool" >/dev/null || { echo "deploy-check: $tool is missing" >&2; exit 1; }
done
if ! command -v yamllint >/dev/null; then
    [[ $(id -u) == 0 ]] || { echo 'deploy-check: yamllint is missing: apt-get install yamllint' >&2; exit 1; }
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq yamllint >/dev/null
fi

# npm ci only when the lock file changed since the last install.
(
    cd deploy/validate
    if ! cmp -s package-lock.json node_modules/.installed-lock.json 2>/dev/null; then
        npm ci --no-audit --no-fund --loglevel=error
        cp package-lock.json node_modules/.installed-lock.json
    fi
)

echo 'deploy-check: the negative test: broken manifests must be rejected'
node deploy/validate/validate.mjs --broken deploy/validate/broken

dirs=(deploy/overlays/*/ deploy/examples/*/ deploy/kserve/)
for dir in "${dirs[@]}"; do
    name=$(echo "${dir%/}" | sed 's|^deploy/||; s|/|-|g')
    kubectl kustomize "$dir" > "$out/rendered/$name.yaml"
done
# The Secrets as make-secrets.sh prints them, with a throwaway certificate and an empty JWKS.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=deploy-check \
    -keyout "$out/tls.key" -out "$out/tls.crt" 2>/dev/null
echo '{"keys": []}' > "$out/jwks.json"
deploy/secrets/make-secrets.sh --jwks "$out/jwks.json" --tls-cert "$out/tls.crt" --tls-key "$out/tls.key" \
    --client-ca "$out/tls.crt" > "$out/rendered/secrets.yaml"
echo "deploy-check: rendered ${#dirs[@]} kustomizations and the secrets into $out/rendered"
node deploy/validate/validate.mjs "$out"/rendered/*.yaml

promtool=$(command -v promtool || true)
if [[ -z "$promtool" ]]; then
    cache="${XDG_CACHE_HOME:-$HOME/.cache}/lowlatency"
    promtool="$cache/promtool"
    if [[ ! -x "$promtool" ]]; then
        mkdir -p "$cache/deb"
        (cd "$cache/deb" && { apt-get download prometheus &>/dev/null ||
            { apt-get update -qq && apt-get download prometheus &>/dev/null; }; })
        dpkg-deb --fsys-tarfile "$cache"/deb/prometheus_*.deb | tar -x -O ./usr/bin/promtool > "$promtool.tmp"
        chmod +x "$promtool.tmp" && mv "$promtool.tmp" "$promtool" && rm -rf "$cache/deb"
    fi
fi
node deploy/validate/adapter-rules.mjs "$out/adapter-rules.yaml"
"$promtool" check rules "$out/adapter-rules.yaml"

mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.yaml' '*.yml')
yamllint --strict -c .yamllint.yaml "${files[@]}"
echo "deploy-check: yamllint clean on ${#files[@]} YAML files"
