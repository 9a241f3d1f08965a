#!/usr/bin/env bash
# Installs everything the project runs on, into git-ignored caches, and skips what is already there:
#   node_modules (npm ci), the Temporal CLI (go install), the Kafka broker and Temporal test server jars (Maven),
#   and with STACK_TEMPORAL=server or PROVISION_TEMPORAL_SERVER=1 the full Temporal server and its Web UI server
#   (go install).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE="$ROOT/.stack"
TEMPORAL_CLI_VERSION=v1.5.1   # newest tag whose go.mod has no `replace`, so `go install` can build it
TEMPORAL_SERVER_VERSION=v1.31.2
TEMPORAL_UI_VERSION=v2.53.3
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

# The full Temporal server (STACK_TEMPORAL=server, docs/temporal-server.md), its SQL schema tool and Web UI server:
# only for stacks that ask for them, since a first build adds several minutes.
go_binary() { # <name in .stack/bin> <version> <package>
  local name=$1 version=$2 package=$3 tmp
  if [ -x "$CACHE/bin/$name" ] && grep -qx "$version" "$CACHE/bin/$name.version" 2>/dev/null; then return; fi
  step "building $name $version with go install (first run only, several minutes)"
  # Both the server and the UI server build a binary called `server`: each gets a GOBIN of its own.
  tmp=$(mktemp -d)
  GOBIN="$tmp" GOFLAGS=-buildvcs=false go install "$package@$version"
  mv "$tmp/$(basename "$package")" "$CACHE/bin/$name"
  rm -rf "$tmp"
  echo "$version" > "$CACHE/bin/$name.version"
}
temporal_server=no
if [ "${STACK_TEMPORAL:-dev}" = server ] || [ "${PROVISION_TEMPORAL_SERVER:-}" = 1 ]; then
  temporal_server=yes
  go_binary temporal-server "$TEMPORAL_SERVER_VERSION" go.temporal.io/server/cmd/server
  go_binary temporal-sql-tool "$TEMPORAL_SERVER_VERSION" go.temporal.io/server/cmd/tools/sql
  go_binary temporal-ui-server "$TEMPORAL_UI_VERSION" github.com/temporalio/ui-server/v2/cmd/server
  schema="$CACHE/temporal-schema"
  if ! grep -qx "$TEMPORAL_SERVER_VERSION" "$schema/.version" 2>/dev/null; then
    step "copying the Temporal $TEMPORAL_SERVER_VERSION PostgreSQL schema"
    # The versioned schema ships in the server's module source, which go install left in the module cache.
    module=$(GOFLAGS=-buildvcs=false go mod download -json "go.temporal.io/server@$TEMPORAL_SERVER_VERSION" |
      sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    rm -rf "$schema"
    mkdir -p "$schema"
    cp -R "$module/schema/postgresql/v12/temporal" "$module/schema/postgresql/v12/visibility" "$schema/"
    chmod -R u+w "$schema"   # module cache files are read-only
    echo "$TEMPORAL_SERVER_VERSION" > "$schema/.version"
  fi
fi

pom_hash=$(sha256sum infra/kafka/pom.xml | cut -c1-16)
if [ ! -f "$CACHE/kafka-libs/.pom-$pom_hash" ]; then
  step "fetching the Kafka broker jars from Maven Central"
  rm -rf "$CACHE/kafka-libs"
  mvn -q -B -f infra/kafka/pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$CACHE/kafka-libs"
  touch "$CACHE/kafka-libs/.pom-$pom_hash"
fi
# Temporal's time-skipping test server (Java, from Maven Central), for the workflow tests with mocked activities
# (test/workflow); the launcher is what TestWorkflowEnvironment runs, with the port as its argument.
pom_hash=$(sha256sum infra/temporal-test-server/pom.xml | cut -c1-16)
if [ ! -f "$CACHE/temporal-test-server-libs/.pom-$pom_hash" ]; then
  step "fetching Temporal's time-skipping test server jars from Maven Central"
  rm -rf "$CACHE/temporal-test-server-libs"
  mvn -q -B -f infra/temporal-test-server/pom.xml dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$CACHE/temporal-test-server-libs"
  touch "$CACHE/temporal-test-server-libs/.pom-$pom_hash"
fi
cat > "$CACHE/bin/temporal-test-server" <<LAUNCHER
#!/usr/bin/env sh
exec java -cp '$CACHE/temporal-test-server-libs/*' io.temporal.testserver.TestServer "\$@"
LAUNCHER
chmod +x "$CACHE/bin/temporal-test-server"
bash infra/provision-deploy-tools.sh
server_note=""
[ "$temporal_server" = yes ] && server_note=", temporal-server $TEMPORAL_SERVER_VERSION + Web UI $TEMPORAL_UI_VERSION"
step "ready: $("$CACHE/bin/temporal" --version)$server_note, Kafka jars in .stack/kafka-libs, test server in .stack/bin/temporal-test-server, embedded PostgreSQL from node_modules"
