#!/usr/bin/env bash
# Parcels imported per second: `bandoso import` against `ogr2ogr -makevalid` on the same Shapefile.
# Usage: bench/import/compare_ogr2ogr.sh [BANDOSO_BIN] [SHAPEFILE] [RUNS]
# Default file: ../shared/fixtures/nghean-dev/parcels_tm3_tcvn3.shp (VN-2000 TM-3, TCVN3 text).
# Prints one line per tool with the median wall time of RUNS runs, the rows it wrote and rows per second.
# A run that fails stops the benchmark: a tool that gives up halfway must not look fast.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin=${1:-$root/build/release/bin/bandoso}
shp=${2:-$root/../shared/fixtures/nghean-dev/parcels_tm3_tcvn3.shp}
runs=${3:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[[ -x "$bin" ]] || { echo "compare_ogr2ogr: $bin is not built (make build)" >&2; exit 1; }
[[ -f "$shp" ]] || { echo "compare_ogr2ogr: $shp not found" >&2; exit 1; }
feature_count() {  # FILE LAYER
  ogrinfo -so "$1" "$2" | awk -F': ' '/Feature Count/ {print $2}'
}
source_layer=$(basename "$shp" .shp)
features=$(feature_count "$shp" "$source_layer")

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

time_runs() {  # command... ; prints the median seconds
  for _ in $(seq "$runs"); do
    rm -f "$work"/out.sqlite*
    local start end
    start=$(date +%s.%N)
    if ! "$@" >"$work/log" 2>&1; then
      { echo "compare_ogr2ogr: failed: $*"; tail -5 "$work/log"; } >&2
      exit 1
    fi
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN {print b - a}'
  done | median
}

# ogr2ogr: the same file, reprojected with the .prj's own TOWGS84, geometries made valid; no checks,
# no decoding of TCVN3 text, no report. -nlt PROMOTE_TO_MULTI is needed: Famis files mix polygons and
# multipolygons, and without it ogr2ogr stops at the first multipolygon (feature 1187 of this file).
t_ogr=$(time_runs ogr2ogr -f SQLite -dsco SPATIALITE=YES -t_srs EPSG:4326 -makevalid -nlt PROMOTE_TO_MULTI \
  "$work/out.sqlite" "$shp")
rows_ogr=$(feature_count "$work/out.sqlite" "${source_layer,,}")
# bandoso: the same plus TCVN3 decoding, NFC, key checks, land-use and area checks, provenance, one transaction.
t_bandoso=$(time_runs "$bin" import --db "$work/out.sqlite" --layer parcels \
  --mapping "$root/data-import/presets/famis_parcels.yaml" "$shp")
rows_bandoso=$(feature_count "$work/out.sqlite" parcels)

printf 'file: %s (%s features), median of %s runs, %s cores\n' "$shp" "$features" "$runs" "$(nproc)"
awk -v f="$features" -v o="$t_ogr" -v b="$t_bandoso" -v ro="$rows_ogr" -v rb="$rows_bandoso" 'BEGIN {
  printf "%-10s %8.3f s %8d rows %10.0f features/s\n", "ogr2ogr", o, ro, f / o
  printf "%-10s %8.3f s %8d rows %10.0f features/s\n", "bandoso", b, rb, f / b
  printf "bandoso speed / ogr2ogr speed: %.2f\n", o / b
}'
