// The embeddable map (/embed?tileset=&center=lat,lon&zoom=&marker=lat,lon&lang=): a Leaflet map and
// nothing else, for other departments' pages. The server has checked the parameters (400 otherwise).

import { applyStrings, lang, t } from "./i18n.js";
import { MAX_ZOOM, boundsOf, parseLatLon, rasterLayer, setAttribution, tileJson } from "./map_common.js";

const params = new URLSearchParams(location.search);
const tileset = params.get("tileset") || "basemap";
const center = parseLatLon(params.get("center"));
const marker = parseLatLon(params.get("marker"));
const zoomText = params.get("zoom");
const zoom = zoomText === null || zoomText === "" ? null : Number(zoomText);

const map = L.map("map", { maxZoom: MAX_ZOOM });
window.bandoso = { map };
// A view at once (Leaflet needs one); the data's extent replaces it when no center was given.
map.setView(center ?? marker ?? [19.0, 105.3], zoom ?? (center || marker ? 15 : 9));
L.control.scale({ imperial: false }).addTo(map);
setAttribution(map);
applyStrings();

rasterLayer(tileset)
  .then((layer) => {
    layer.addTo(map);
    if (center || marker) return;
    return tileJson(tileset).then((json) => {
      if (zoom === null) map.fitBounds(boundsOf(json));
      else map.setView(boundsOf(json).getCenter(), zoom);
    });
  })
  .catch((error) => console.warn(`tileset ${tileset}:`, error));

if (marker) L.marker(marker, { keyboard: false }).addTo(map);

// A link out to the full viewer at the same view, as embedded maps usually offer.
const LargerMap = L.Control.extend({
  options: { position: "bottomright" },
  onAdd() {
    const link = L.DomUtil.create("a", "larger-map");
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = t("larger_map");
    const update = () => {
      const c = map.getCenter();
      link.href = `/map${lang === "en" ? "?lang=en" : ""}#${map.getZoom()}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}`;
    };
    map.on("moveend", update);
    update();
    return link;
  },
});
new LargerMap().addTo(map);
