#!/usr/bin/env bash
# Screenshot of the Temporal Web UI filtered to one prison number, as committed in docs/ (README, "Operating
# the sync"). Needs a running system (bin/start) and Chromium (Debian: apt-get install chromium).
#   bash docs/screenshot.sh [prisonNumber] [output.png]
set -euo pipefail
cd "$(dirname "$0")/.."
prison_number="${1:-M0001RT}"
out="${2:-docs/web-ui-prison-number-filter.png}"
ui="http://127.0.0.1:${TEMPORAL_UI_PORT:-8233}"
# The prisoner's resyncs (a merge's resync has kind MERGE), newest first.
query="$(node -e 'console.log(encodeURIComponent(process.argv[1]))' "PrisonNumber=\"${prison_number}\" AND SyncKind IN (\"RESYNC\",\"MERGE\")")"
chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
  --disable-background-networking --no-first-run --window-size=1600,900 --virtual-time-budget=20000 \
  --screenshot="$out" "${ui}/namespaces/${TEMPORAL_NAMESPACE:-default}/workflows?query=${query}" 2>/dev/null
echo "wrote $out"
