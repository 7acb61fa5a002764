#!/usr/bin/env bash
# The planners' API over HTTP with wrk, on the dev fixture: features per second of large bbox pages of
# OGC API - Features items (parcels, addresses; limit=1000) and the latency of land-use statistics over
# one commune. Loads ../shared/fixtures/nghean-dev with scripts/load-fixture and serves it.
# Usage: bench/features/wrk_features.sh [BANDOSO_BIN] [CONNECTIONS] [DURATION]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin=${1:-$root/build/release/bin/bandoso}
conns=${2:-8}
duration=${3:-20s}
shared="${BANDOSO_SHARED_DIR:-$root/../shared}"
port=${PORT:-8096}
threads=$(( conns < 2 ? conns : 2 ))  # wrk needs a connection per thread
commune=${COMMUNE:-16681}
work=$(mktemp -d)
trap 'kill "$(cat "$work/pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT

source "$root/bench/lib/dev_fixture_server.sh"
require_tools wrk_features
load_dev_fixture
serve_dev_fixture
base="http://127.0.0.1:$port"

# The bbox of a collection: its extent from /collections/{id}, i.e. covering every feature of the layer.
bbox_of() {
  curl -sf "$base/collections/$1" | python3 -c '
import json, sys
w, s, e, n = json.load(sys.stdin)["extent"]["spatial"]["bbox"][0]
print(f"{w - 1e-4:.4f},{s - 1e-4:.4f},{e + 1e-4:.4f},{n + 1e-4:.4f}")'
}

# One wrk run; prints "requests/s MB/s p50 p99" (latencies as wrk writes them) and stops on errors.
run_wrk() {
  local url=$1 out
  out=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency "$url")
  if grep -qE "Non-2xx|Socket errors" <<< "$out"; then echo "$out" >&2; echo "wrk_features: errors on $url" >&2; exit 2; fi
  awk '/Requests\/sec/ {rps=$2} /Transfer\/sec/ {tr=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2}
       END {print rps, tr, p50, p99}' <<< "$out"
}

to_mb() {  # wrk's Transfer/sec ("53.12MB", "812.4KB") in MB/s
  awk -v t="$1" 'BEGIN { v = t + 0; if (t ~ /GB/) v *= 1024; else if (t ~ /KB/) v /= 1024; else if (t ~ /[0-9]B$/) v /= 1048576; printf "%.1f", v }'
}

echo "wrk -t$threads -c$conns -d$duration; server --threads 2 --no-cache; $(nproc) cores; $(uptime | sed 's/.*load/load/')"
echo
echo "| request | matched | features/page | req/s | features/s | MB/s | p50 | p99 |"
echo "|---|---|---|---|---|---|---|---|"
for layer in parcels addresses; do
  bbox=$(bbox_of "$layer")
  path="/collections/$layer/items?bbox=$bbox&limit=1000"
  page=$(curl -sf "$base$path" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["numberMatched"], d["numberReturned"])')
  read -r matched returned <<< "$page"
  curl -s -o /dev/null "$base$path"  # warm-up
  read -r rps transfer p50 p99 < <(run_wrk "$base$path")
  fps=$(awk -v r="$rps" -v n="$returned" 'BEGIN { printf "%.0f", r * n }')
  echo "| GET $path | $matched | $returned | $rps | $fps | $(to_mb "$transfer") | $p50 | $p99 |"
done
path="/stats/land-use?commune=$commune"
parcels=$(curl -sf "$base$path" | python3 -c 'import json, sys; print(json.load(sys.stdin)["parcels"])')
read -r rps transfer p50 p99 < <(run_wrk "$base$path")
echo "| GET $path ($parcels parcels) | — | — | $rps | — | $(to_mb "$transfer") | $p50 | $p99 |"
