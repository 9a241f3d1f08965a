#!/usr/bin/env bash
# Installs everything the project runs on, into git-ignored caches, and skips what is already there:
#   node_modules (npm ci), the Temporal CLI (go install), the Kafka broker jars (Maven).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE="$ROOT/.stack"
TEMPORAL_CLI_VERSION=v1.5.1   # newest tag whose go.mod has no `replace`, so `go install` can build it
mkdir -p "$CACHE/bin"

step() { printf '\033[1m[provision]\033[0m %s\n' "$*"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "provision: '$1' is required ($2)" >&2; exit 1; }; }
need node "Node.js 20+"; need npm "Node.js 20+"; need go "Go 1.25+"; need java "Java 17+"; need mvn "Maven 3.8+"

# npm ci when the lockfile changed since the last install (or there is none).
stamp="$CACHE/npm-ci.stamp"
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

if [ ! -x "$CACHE/bin/temporal" ] || ! grep -qx "$TEMPORAL_CLI_VERSION" "$CACHE/bin/temporal.version" 2>/dev/null; then
  step "building the Temporal CLI $TEMPORAL_CLI_VERSION with go install (first run only, several minutes)"
  GOBIN="$CACHE/bin" GOFLAGS=-buildvcs=false go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
  echo "$TEMPORAL_CLI_VERSION" > "$CACHE/bin/temporal.version"
fi

pom_hash=$(sha256sum infra/kafka/pom.xml | cut -c1-16)
if [ ! -f "$CACHE/kafka-libs/.pom-$pom_hash" ]; then
  step "fetching the Kafka broker jars from Maven Central"
  rm -rf "$CACHE/kafka-libs"
  mvn -q -B -f infra/kafka/pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$CACHE/kafka-libs"
  touch "$CACHE/kafka-libs/.pom-$pom_hash"
fi
step "ready: $("$CACHE/bin/temporal" --version), Kafka jars in .stack/kafka-libs, embedded PostgreSQL from node_modules"
