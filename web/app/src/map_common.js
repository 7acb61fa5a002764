// What the viewer, the embed and the citizen page share: our raster tilesets as Leaflet layers, and
// reading "lat,lon" parameters. Leaflet (the global L) comes from /assets/leaflet/leaflet.js.

import { t } from "./i18n.js";

// The map's zoom range: the basemap starts at 6 (the province) and the cadastral map goes to 21.
export const MIN_ZOOM = 6;
export const MAX_ZOOM = 21;

// A tileset's TileJSON (of its PNG tiles): its zoom range and the extent of its data, so that Leaflet
// asks for no tile the server would draw empty. Asked once per tileset and page.
const tileJsons = new Map();
export function tileJson(tileset) {
  if (!tileJsons.has(tileset)) {
    tileJsons.set(
      tileset,
      fetch(`/tiles/${encodeURIComponent(tileset)}.json?format=png`).then((r) => {
        if (!r.ok) throw new Error(`TileJSON of ${tileset}: HTTP ${r.status}`);
        return r.json();
      }),
    );
  }
  return tileJsons.get(tileset);
}

export function boundsOf(json) {
  const [west, south, east, north] = json.bounds;
  return L.latLngBounds([south, west], [north, east]);
}

// A raster tileset of ours as a Leaflet layer. Beyond the tileset's last zoom Leaflet enlarges its
// tiles (maxNativeZoom) instead of asking for tiles that do not exist.
export async function rasterLayer(tileset, options = {}) {
  const json = await tileJson(tileset);
  return L.tileLayer(`/tiles/${encodeURIComponent(tileset)}/{z}/{x}/{y}.png`, {
    minZoom: Math.max(json.minzoom ?? 0, 0),
    maxNativeZoom: json.maxzoom ?? 20,
    maxZoom: 22,
    bounds: boundsOf(json).pad(0.05),
    attribution: json.attribution,
    ...options,
  });
}

// "18.67,105.68" → L.latLng, or null when absent or not two numbers (the server refuses those already).
export function parseLatLon(text) {
  if (!text) return null;
  const parts = text.split(",").map(Number);
  return parts.length === 2 && parts.every(Number.isFinite) ? L.latLng(parts[0], parts[1]) : null;
}

// The attribution line of our maps, in the page's language, with Leaflet's own link kept.
export function setAttribution(map) {
  map.attributionControl.setPrefix(
    `<a href="https://leafletjs.com" title="A JavaScript library for interactive maps">Leaflet</a> | ${t("attribution")}`,
  );
}
