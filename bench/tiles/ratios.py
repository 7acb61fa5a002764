#!/usr/bin/env python3
"""The issue's tile targets as ratios of bandoso to its peers, from $PEERS_OUT/results/{wrk,render}.jsonl
(mean over the runs of the latest measurement of each name). Usage: ratios.py PEERS_OUT -> Markdown."""
import json
import os
import sys

out = sys.argv[1]


def load(name):
    records = {}
    try:
        for line in open(os.path.join(out, "results", name), encoding="utf-8"):
            if line.startswith("{"):
                r = json.loads(line)
                records[(r["name"], r.get("label", ""))] = r
    except OSError:
        pass
    return records


def mean(records, name, key):
    values = [float(r[key]) for (n, _), r in records.items() if n == name]
    return sum(values) / len(values) if values else None


wrk, render = load("wrk.jsonl"), load("render.jsonl")
ms = os.environ.get("MS_ZOOM", "15")
rows = [
    ("cached PNG", "req/s", mean(wrk, "bandoso_cached_png", "rps"), "mod_tile", mean(wrk, "modtile_cached", "rps"), 2.0),
    ("cached PNG", "req/s", mean(wrk, "bandoso_cached_png", "rps"), "nginx (static files)", mean(wrk, "nginx_static", "rps"), None),
    ("cold render", "bbox tiles/s", mean(render, "bandoso_cold_render", "bbox_tiles_per_s"), "renderd",
     mean(render, "modtile_cold_render", "bbox_tiles_per_s"), 1.5),
    ("cached MVT", "req/s", mean(wrk, "bandoso_cached_mvt", "rps"), "tileserver-gl-light", mean(wrk, "tileserver_pbf", "rps"), 20.0),
    (f"uncached MVT z{ms}", "req/s", mean(wrk, f"bandoso_z{ms}_mvt", "rps"), "MapServer", mean(wrk, f"mapserver_z{ms}_mvt", "rps"), 3.0),
    (f"uncached PNG z{ms}", "req/s", mean(wrk, f"bandoso_z{ms}_png", "rps"), "MapServer (PNG8)", mean(wrk, f"mapserver_z{ms}_png8", "rps"), None),
]
print("| measured | unit | bandoso | peer | peer's | ratio | target | met |")
print("|---|---|---|---|---|---|---|---|")
for what, unit, ours, peer, theirs, target in rows:
    if ours is None or theirs is None:
        print(f"| {what} | {unit} | {ours or 'not run'} | {peer} | {theirs or 'not run'} | | {target or ''} | |")
        continue
    ratio = ours / theirs
    met = "" if target is None else ("yes" if ratio >= target else "**no**")
    print(f"| {what} | {unit} | {ours:,.0f} | {peer} | {theirs:,.0f} | {ratio:.2f}× | {f'≥ {target}×' if target else '—'} | {met} |")
