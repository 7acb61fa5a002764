#!/usr/bin/env bash
# Tiles: bandoso beside the peer servers of ../shared/bench/peers in one run — the same data (the peers'
# Spatialite database, imported with `bandoso import`), the same Mapnik XML (the peers' style.xml without
# its datasources, see peer_style.py), the same tile lists, the same wrk settings, each server in its own
# session. Prints the ratios the issue's targets are set in; results in $PEERS_OUT/results/.
# Usage: bench/tiles/compare_peers.sh [--skip-peers]
#   --skip-peers: measure bandoso only, beside the peer results already in $PEERS_OUT/results.
# Environment: as ../shared/bench/peers/env.sh (PEERS_NICE=-10 on a shared machine), BANDOSO (binary),
# PORT_BANDOSO (8090).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PEERS_DIR="${PEERS_DIR:-$root/../shared/bench/peers}"
[ -f "$PEERS_DIR/env.sh" ] || { echo "compare_peers: $PEERS_DIR not found (../shared/bench/peers)" >&2; exit 1; }
source "$PEERS_DIR/env.sh"; source "$PEERS_DIR/lib.sh"
bin="${BANDOSO:-$root/build/release/bin/bandoso}"
[ -x "$bin" ] || die "$bin is not built (make build)"
PORT_BANDOSO="${PORT_BANDOSO:-8090}"
peers=1
for a in "$@"; do case "$a" in --skip-peers) peers=0;; *) die "unknown arg $a";; esac; done

if [ "$peers" = 1 ]; then
  "$PEERS_DIR/run_all.sh" --no-baselines   # archives older results, runs every peer, stops them all
fi
W="$PEERS_OUT/bandoso"; R="$PEERS_OUT/results"; L="$PEERS_OUT/lists"
mkdir -p "$R" "$L"
[ -s "$L/raster_png_paths.txt" ] && [ -s "$L/vector_pbf_paths.txt" ] || die "no peer tile lists in $L: run without --skip-peers"

log "bandoso: importing $PEERS_DB"
rm -rf "$W"; mkdir -p "$W/styles"
python3 "$root/bench/tiles/peer_style.py" "$PEERS_DIR/style.xml" "$W/styles"
"$bin" import --db "$W/bench.sqlite" --layer communes --mapping "$root/bench/tiles/mappings/communes.yaml" "$PEERS_DB" >&2
"$bin" import --db "$W/bench.sqlite" --layer parcels --mapping "$root/bench/tiles/mappings/parcels.yaml" "$PEERS_DB" >&2
cache="$W/bench.tiles"
common=(--db "$W/bench.sqlite" --styles-dir "$W/styles")

start_server() {  # start_server [serve options...]
  setsid nohup "${NICE[@]}" "$bin" serve "${common[@]}" --port "$PORT_BANDOSO" --threads 2 "$@" \
    > "$W/serve.log" 2>&1 &
  echo $! > "$W/serve.pid"
  boost_group "$(cat "$W/serve.pid")"
  wait_port "$PORT_BANDOSO"
}
stop_server() { stop_pidfile "$W/serve.pid" bandoso; }
trap stop_server EXIT
bbox="$BBOX_MINLON,$BBOX_MINLAT,$BBOX_MAXLON,$BBOX_MAXLAT"

# (a) cold render, as renderd's: every metatile (8×8) over the bbox z$RASTER_MINZ-$RASTER_MAXZ into an
#     empty cache, RENDER_THREADS render threads. bandoso encodes only the tiles inside the bbox.
NT=$(python3 "$PEERS_DIR/gen_tilelist.py" $BBOX_MINLON $BBOX_MINLAT $BBOX_MAXLON $BBOX_MAXLAT "$RASTER_MINZ" "$RASTER_MAXZ" x --xyz | wc -l)
NM=$(python3 "$PEERS_DIR/gen_tilelist.py" $BBOX_MINLON $BBOX_MINLAT $BBOX_MAXLON $BBOX_MAXLAT "$RASTER_MINZ" "$RASTER_MAXZ" x --xyz \
  | awk '{ printf "%d %d %d\n", $2 - $2 % 8, $3 - $3 % 8, $1 }' | awk '!seen[$0]++' | wc -l)
for r in $(seq 1 "${RENDER_REPEATS:-2}"); do
  rm -f "$cache" "$cache-wal" "$cache-shm"
  wait_quiet
  out="$R/bandoso_cold_render.run$r.txt"
  echo "# $(date -Is) bandoso seed --tileset peer --zoom $RASTER_MINZ-$RASTER_MAXZ --bbox $bbox --threads $RENDER_THREADS" > "$out"
  t0=$(date +%s.%N)
  "${NICE[@]}" "$bin" seed "${common[@]}" --cache "$cache" --tileset peer --zoom "$RASTER_MINZ-$RASTER_MAXZ" \
    --bbox "$bbox" --threads "$RENDER_THREADS" >> "$out" 2>&1
  t1=$(date +%s.%N)
  BG_AFTER=$(cpu_busy_pct)
  python3 - "$t0" "$t1" "$NT" "$NM" "$RENDER_THREADS" "$BG_BUSY" "run$r" "$BG_AFTER" >> "$R/render.jsonl" <<'PY'
import json, sys
t0, t1 = float(sys.argv[1]), float(sys.argv[2]); nt, nm, th, bg = map(int, sys.argv[3:7])
el = t1 - t0
print(json.dumps({"name": "bandoso_cold_render", "label": sys.argv[7], "threads": th, "elapsed_s": round(el, 2),
                  "bbox_tiles": nt, "metatiles_requested": nm, "metatiles_per_s": round(nm / el, 2),
                  "bbox_tiles_per_s": round(nt / el, 1), "bg_busy_pct": bg, "bg_busy_after_pct": int(sys.argv[8])}))
PY
  tail -1 "$R/render.jsonl" >&2
done

# (b) cached PNG: the list mod_tile and nginx were measured with (same paths: tileset "peer").
start_server --cache "$cache"
run_wrk bandoso_cached_png "http://$HOST:$PORT_BANDOSO" "$L/raster_png_paths.txt" "$WRK_CONN" "$WRK_DURATION"
stop_server

# (c) cached MVT: the tiles tileserver-gl-light serves, seeded first, gzip as tileserver's.
"$bin" seed "${common[@]}" --cache "$cache" --tileset peer --zoom "$VECTOR_MINZ-$VECTOR_MAXZ" --bbox "$bbox" \
  --format mvt --threads "$RENDER_THREADS" >&2
sed 's#^/data/nghean/#/tiles/peer/#; s#\.pbf$#.mvt#' "$L/vector_pbf_paths.txt" > "$L/bandoso_mvt_paths.txt"
start_server --cache "$cache"
run_wrk bandoso_cached_mvt "http://$HOST:$PORT_BANDOSO" "$L/bandoso_mvt_paths.txt" "$WRK_CONN" "$WRK_DURATION" "Accept-Encoding: gzip"
stop_server

# (d) uncached tiles at z$MS_ZOOM, as MapServer's: the same tiles in the same order, MS_CONN connections,
#     no cache on disk or in memory; no Accept-Encoding, as in MapServer's run.
for fmt in mvt png; do
  python3 "$PEERS_DIR/gen_tilelist.py" $BBOX_MINLON $BBOX_MINLAT $BBOX_MAXLON $BBOX_MAXLAT "$MS_ZOOM" "$MS_ZOOM" \
    "/tiles/peer/{z}/{x}/{y}.$fmt" --shuffle 1 > "$L/bandoso_z${MS_ZOOM}_$fmt.txt"
done
start_server --no-cache
for fmt in mvt png; do
  run_wrk "bandoso_z${MS_ZOOM}_$fmt" "http://$HOST:$PORT_BANDOSO" "$L/bandoso_z${MS_ZOOM}_$fmt.txt" "$MS_CONN" "$WRK_DURATION"
done
stop_server

python3 "$PEERS_DIR/summarize.py" "$PEERS_OUT" > "$R/summary.md"
python3 "$root/bench/tiles/ratios.py" "$PEERS_OUT" | tee "$R/bandoso_ratios.md"
