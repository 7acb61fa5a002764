#!/usr/bin/env bash
# Forward geocoding over HTTP: queries per second and latency with wrk, on the dev fixture.
# Loads ../shared/fixtures/nghean-dev with scripts/load-fixture, serves it, and sends every query of
# queries_forward.csv as GET /search?q=... round-robin (wrk_list.lua from the peers' scripts).
# Usage: bench/geocoder/wrk_search.sh [BANDOSO_BIN] [CONNECTIONS] [DURATION]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin=${1:-$root/build/release/bin/bandoso}
conns=${2:-16}
duration=${3:-20s}
shared="${BANDOSO_SHARED_DIR:-$root/../shared}"
port=${PORT:-8095}
work=$(mktemp -d)
trap 'kill "$(cat "$work/pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT

source "$root/bench/lib/dev_fixture_server.sh"
require_tools wrk_search
load_dev_fixture
python3 - "$shared/fixtures/nghean-dev/queries_forward.csv" > "$work/paths.txt" <<'PY'
import csv, sys, urllib.parse
for row in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    print("/search?limit=1&q=" + urllib.parse.quote(row["query"]))
PY
serve_dev_fixture
# Warm-up: the index is built on the first query.
curl -s -o /dev/null "http://127.0.0.1:$port/search?q=Vinh"
echo "queries: $(wc -l < "$work/paths.txt") from queries_forward.csv; wrk -t2 -c$conns -d$duration; $(nproc) cores"
WRK_NAME=geocoder WRK_LABEL=run WRK_CONN=$conns wrk -t2 -c"$conns" -d"$duration" --latency \
  -s "$shared/bench/peers/wrk_list.lua" "http://127.0.0.1:$port" -- "$work/paths.txt" \
  | grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|Socket errors"
