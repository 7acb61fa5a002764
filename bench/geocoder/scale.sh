#!/usr/bin/env bash
# Geocoding at scale: `bandoso demo --scale 40` (about 1,000,000 addresses), imported, served; reports the
# index build time (from the server's log), the server's resident memory, and wrk latency over 2,000
# address queries drawn from the demo's own list (new and former commune forms).
# Usage: bench/geocoder/scale.sh [BANDOSO_BIN] [WORK_DIR]   (WORK_DIR keeps the 250 MB database between runs)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin=${1:-$root/build/release/bin/bandoso}
work=${2:-$(mktemp -d)}
port=${PORT:-8096}
shared="${BANDOSO_SHARED_DIR:-$root/../shared}"
mkdir -p "$work"
trap 'kill "$(cat "$work/pid" 2>/dev/null)" 2>/dev/null || true' EXIT
if [[ ! -f "$work/demo.sqlite" ]]; then
  "$bin" demo --out "$work/demo" --scale 40 > /dev/null
  "$root/scripts/import-demo" "$bin" "$work/demo" "$work/demo.sqlite" > "$work/import.log" 2>&1
fi
python3 - "$work/demo/dia_chi.csv" > "$work/paths.txt" <<'PY'
import csv, random, sys, urllib.parse
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
random.Random(7).shuffle(rows)
for r in rows[:2000]:
    street = (r["lane"] + " " if r["lane"] else "") + r["street"]
    if int(r["id"][-1]) % 2:  # the old form: former commune and district
        q = f'số {r["house_number"]} {street}, {r["old_commune_name"]}, {r["old_district_name"]}'
    else:
        q = f'số {r["house_number"]} {street}, {r["commune_name"]}, Nghệ An'
    print("/search?limit=1&q=" + urllib.parse.quote(q))
PY
"$bin" serve --db "$work/demo.sqlite" --port "$port" --threads 2 --no-cache > "$work/serve.log" 2>&1 &
echo $! > "$work/pid"
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/status" && break; sleep 0.2; done
start=$(date +%s.%N)
curl -s -o /dev/null "http://127.0.0.1:$port/search?q=Vinh"   # builds the index
end=$(date +%s.%N)
echo "first query (index build): $(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", b - a}') s; server log: $(grep -i -m1 "index" "$work/serve.log" || true)"
echo "addresses: $(sqlite3 "$work/demo.sqlite" 'select count(*) from addresses')"
echo "resident memory after the build: $(ps -o rss= -p "$(cat "$work/pid")" | awk '{printf "%.0f MB", $1 / 1024}')"
WRK_NAME=geocoder_scale WRK_LABEL=run WRK_CONN=16 wrk -t2 -c16 -d20s --latency \
  -s "$shared/bench/peers/wrk_list.lua" "http://127.0.0.1:$port" -- "$work/paths.txt" \
  | grep -E "Requests/sec|Latency  |50%|90%|99%|Non-2xx|Socket errors"
echo "resident memory after the run: $(ps -o rss= -p "$(cat "$work/pid")" | awk '{printf "%.0f MB", $1 / 1024}')"
