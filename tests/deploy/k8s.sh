#!/usr/bin/env bash
# Renders every Kustomize overlay of deploy/k8s and the Helm chart deploy/helm/inferd, and
# validates every object against the Kubernetes JSON schemas and inferd's own flags,
# endpoints and metrics (tests/deploy/validate/check.mjs says what is checked).
# CTest label `deploy`, in the default run: about 2 s, plus `npm ci` (a few seconds, needs
# the npm registry) the first time. Needs kubectl (with its built-in Kustomize) and node.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root/tests/deploy/validate"
# kubectl is no Debian 12 package (these machines have Google's, with Kustomize built in):
# without it the test is skipped (CTest SKIP_RETURN_CODE 77), saying why.
command -v kubectl >/dev/null || { echo "SKIP: kubectl is not installed (it renders the overlays)"; exit 77; }
kubectl version --client 2>/dev/null | head -2
# The validator's packages, pinned by package-lock.json, into a git-ignored node_modules.
# scripts/setup.sh installs them too; this keeps the test runnable on its own.
if [ ! -d node_modules/kubernetes-models ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node check.mjs "$root"
