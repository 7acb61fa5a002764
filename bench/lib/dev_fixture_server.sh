# Sourced by the benchmark scripts: the shared dev fixture loaded into a temporary database and served.
# Needs: root, bin, shared, port, work (a temporary directory the caller removes).

require_tools() {  # NAME: the calling script's name, for messages
  [[ -x "$bin" ]] || { echo "$1: $bin is not built (make build)" >&2; exit 1; }
  command -v wrk >/dev/null || { echo "$1: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
}

load_dev_fixture() {  # writes $work/dev.sqlite
  "$root/scripts/load-fixture" --bandoso "$bin" "$shared/fixtures/nghean-dev" "$shared/reference/nghean" \
    "$work/dev.sqlite" > "$work/load.log" 2>&1
}

serve_dev_fixture() {  # in the background on $port, without the tile cache; waits until it answers
  "$bin" serve --db "$work/dev.sqlite" --port "$port" --threads 2 --no-cache > "$work/serve.log" 2>&1 &
  echo $! > "$work/pid"
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.2; done
}
