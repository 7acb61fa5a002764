// The viewer (/, /map): our raster tiles in Leaflet, a search as one types, overlay layers, a click that
// tells what is at a point, the view in the URL hash, a snippet to embed the view elsewhere.
// Everything comes from this server's public API; nothing is loaded from the internet.

import { applyStrings, formatNumber, lang, onLanguageChange, setUpLanguageButton, t } from "./i18n.js";
import { MAX_ZOOM, MIN_ZOOM, boundsOf, rasterLayer, setAttribution, tileJson } from "./map_common.js";

const BASE_TILESET = "basemap";
// The overlays' checkbox values and the tilesets they show.
const OVERLAYS = { communes: "communes", parcels: "cadastral", addresses: "addresses" };
const ADDRESS_ZOOM = 18;

// ---- The map, and its view in the URL hash: #{zoom}/{lat}/{lon} ----

function viewFromHash() {
  const parts = location.hash.slice(1).split("/").map(Number);
  if (parts.length !== 3 || !parts.every(Number.isFinite)) return null;
  const [zoom, lat, lon] = parts;
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  return { zoom: Math.min(Math.max(zoom, MIN_ZOOM), MAX_ZOOM), center: L.latLng(lat, lon) };
}

const startView = viewFromHash();
const map = L.map("map", { minZoom: MIN_ZOOM, maxZoom: MAX_ZOOM, zoomControl: true });
// Until the basemap's extent is known, the province (it replaces this when the URL names no view).
map.setView(startView ? startView.center : [19.0, 105.3], startView ? startView.zoom : 9);
L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
setAttribution(map);
window.bandoso = { map };

function hashOfView() {
  const c = map.getCenter();
  return `#${map.getZoom()}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}`;
}

// replaceState: moving the map should not fill the back button's history.
map.on("moveend", () => {
  const hash = hashOfView();
  if (location.hash !== hash) history.replaceState(history.state, "", hash);
});
// A hash edited by hand (or a link to another view on this page).
window.addEventListener("hashchange", () => {
  const view = viewFromHash();
  if (view) map.setView(view.center, view.zoom);
});

rasterLayer(BASE_TILESET)
  .then((layer) => {
    layer.addTo(map);
    if (!startView) tileJson(BASE_TILESET).then((json) => map.fitBounds(boundsOf(json)));
  })
  .catch((error) => console.warn("basemap:", error));

// ---- Overlays: the #layers checkboxes, as a Leaflet control so that clicks stay off the map ----

const LayersControl = L.Control.extend({
  options: { position: "topright" },
  onAdd() {
    const panel = document.getElementById("layers");
    L.DomEvent.disableClickPropagation(panel);
    L.DomEvent.disableScrollPropagation(panel);
    return panel;
  },
});
new LayersControl().addTo(map);

const overlays = new Map(); // checkbox value → Promise of its Leaflet layer
for (const box of document.querySelectorAll("#layers input[name=layer]")) {
  box.addEventListener("change", async () => {
    const tileset = OVERLAYS[box.value];
    if (!tileset) return;
    if (!overlays.has(box.value)) overlays.set(box.value, rasterLayer(tileset, { zIndex: 10 }));
    try {
      const layer = await overlays.get(box.value);
      // The box may have changed again while the TileJSON was on its way: follow its state now.
      if (box.checked) layer.addTo(map);
      else layer.remove();
    } catch (error) {
      overlays.delete(box.value);
      console.warn(`overlay ${tileset}:`, error);
    }
  });
}

// ---- Search as one types: /autocomplete into #suggestions ----

const input = document.getElementById("search");
const list = document.getElementById("suggestions");
let suggestions = [];
let active = -1;
let pending = null; // the AbortController of the request in flight
let debounce = 0;
let marker = null;

function closeSuggestions() {
  list.hidden = true;
  list.replaceChildren();
  input.setAttribute("aria-expanded", "false");
  suggestions = [];
  active = -1;
}

function showSuggestions(features) {
  suggestions = features.slice(0, 10);
  active = -1;
  list.replaceChildren(
    ...suggestions.map((feature, index) => {
      const li = document.createElement("li");
      li.className = "suggestion";
      li.setAttribute("role", "option");
      li.id = `suggestion-${index}`;
      const p = feature.properties;
      li.append(element("strong", null, p.name));
      if (p.display_name && p.display_name !== p.name) {
        // The space keeps the two apart in the element's text (screen readers, tests).
        li.append(" ", element("small", null, p.display_name));
      }
      // mousedown, not click: the input's blur would otherwise close the list first.
      li.addEventListener("mousedown", (event) => {
        event.preventDefault();
        choose(feature);
      });
      return li;
    }),
  );
  if (suggestions.length === 0) {
    const li = document.createElement("li");
    li.className = "suggestions-empty";
    li.textContent = t("no_results");
    list.append(li);
  }
  list.hidden = false;
  input.setAttribute("aria-expanded", "true");
}

async function fetchSuggestions(text) {
  pending?.abort();
  pending = new AbortController();
  const response = await fetch(`/autocomplete?q=${encodeURIComponent(text)}&limit=10`, { signal: pending.signal });
  if (!response.ok) return [];
  return (await response.json()).features ?? [];
}

input.addEventListener("input", () => {
  clearTimeout(debounce);
  const text = input.value.trim();
  if (text.length < 2) {
    pending?.abort();
    closeSuggestions();
    return;
  }
  // 200 ms after the last key: one request per pause, not one per letter.
  debounce = setTimeout(async () => {
    try {
      const features = await fetchSuggestions(text);
      if (input.value.trim() === text) showSuggestions(features);
    } catch (error) {
      if (error.name !== "AbortError") console.warn("autocomplete:", error);
    }
  }, 200);
});

function highlight(index) {
  const items = list.querySelectorAll(".suggestion");
  if (items.length === 0) return;
  active = (index + items.length) % items.length;
  items.forEach((li, i) => li.classList.toggle("active", i === active));
  input.setAttribute("aria-activedescendant", items[active].id);
  items[active].scrollIntoView({ block: "nearest" });
}

input.addEventListener("keydown", async (event) => {
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    highlight(active + (event.key === "ArrowDown" ? 1 : -1));
  } else if (event.key === "Escape") {
    closeSuggestions();
  } else if (event.key === "Enter") {
    event.preventDefault();
    // Enter before the pause is over: ask now rather than wait for the debounce.
    if (suggestions.length === 0 && input.value.trim().length >= 2) {
      clearTimeout(debounce);
      try {
        showSuggestions(await fetchSuggestions(input.value.trim()));
      } catch (error) {
        if (error.name !== "AbortError") console.warn("autocomplete:", error);
      }
    }
    if (suggestions.length > 0) choose(suggestions[Math.max(active, 0)]);
  }
});
input.addEventListener("blur", () => setTimeout(closeSuggestions, 150));

// Flies to a suggestion: an address close up, a street or a commune whole, and marks it.
function choose(feature) {
  const p = feature.properties;
  const [lon, lat] = feature.geometry.coordinates;
  input.value = p.name;
  closeSuggestions();
  input.blur();
  const isAddress = p.addresstype === "house" || p.place_rank >= 30;
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const animation = { animate: !reduceMotion, duration: 1.0 };
  if (!isAddress && feature.bbox) {
    const [west, south, east, north] = feature.bbox;
    map.flyToBounds([[south, west], [north, east]], { ...animation, maxZoom: 17, padding: [20, 20] });
  } else {
    map.flyTo([lat, lon], isAddress ? ADDRESS_ZOOM : 16, animation);
  }
  marker?.remove();
  marker = L.marker([lat, lon], { title: p.name, keyboard: false }).addTo(map).bindTooltip(p.display_name || p.name);
}

// ---- What is here: a click → /identify → a popup (never an owner name: only the fields named below
// are shown, and the public API has none to give anyway) ----

const landUseNames = new Map(); // code → Promise of its Vietnamese name ("" when unknown)

function landUseName(code) {
  if (!landUseNames.has(code)) {
    landUseNames.set(
      code,
      fetch(`/collections/land_use_codes/items?code=${encodeURIComponent(code)}&limit=1`)
        .then((r) => (r.ok ? r.json() : { features: [] }))
        .then((json) => json.features?.[0]?.properties?.name_vi ?? "")
        .catch(() => ""),
    );
  }
  return landUseNames.get(code);
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function line(label, value) {
  const p = element("p");
  p.append(element("span", "label", `${label}: `), typeof value === "string" ? document.createTextNode(value) : value);
  return p;
}

async function parcelSection(parcel) {
  const p = parcel.properties ?? {};
  const section = element("section", "parcel");
  section.append(element("h3", null, t("parcel_title", { sheet: p.sheet_no, parcel: p.parcel_no })));
  if (p.area_m2 != null) section.append(line(t("area"), `${formatNumber(p.area_m2)} m²`));
  if (p.land_use) {
    // A combined code ("ODT+CLN") is named part by part.
    const codes = String(p.land_use).split("+").map((c) => c.trim()).filter(Boolean);
    const names = await Promise.all(codes.map(landUseName));
    const text = codes.map((code, i) => (names[i] ? `${code} — ${names[i]}` : code)).join("; ");
    section.append(line(t("land_use"), text));
  }
  return section;
}

function addressSection(address) {
  const p = address.properties ?? {};
  const section = element("section", "address");
  section.append(element("h3", null, t("address")));
  const street = [p.house_number, p.lane, p.street].filter(Boolean).join(" ");
  if (street) section.append(element("p", null, [street, p.hamlet].filter(Boolean).join(", ")));
  if (p.digital_code) {
    const link = element("a", "digital-code", p.digital_code);
    link.href = `/a/${encodeURIComponent(p.digital_code)}${lang === "en" ? "?lang=en" : ""}`;
    section.append(line(t("digital_code"), link));
  }
  return section;
}

function communeSection(commune, former) {
  const section = element("section", "commune");
  section.append(element("h3", null, t("commune")));
  const name = commune?.properties?.full_name ?? commune?.properties?.name;
  if (name) section.append(element("p", "commune-name", name));
  if (former?.name) {
    const formerName = [former.name, former.district].filter(Boolean).join(", ");
    section.append(element("p", "former-commune", t("formerly", { name: formerName })));
  }
  return section;
}

async function identifyContent(answer) {
  const box = element("div", "identify");
  if (answer.parcel) box.append(await parcelSection(answer.parcel));
  if (answer.address) box.append(addressSection(answer.address));
  if (answer.commune || answer.former_commune) box.append(communeSection(answer.commune, answer.former_commune));
  if (!box.hasChildNodes()) box.append(element("p", null, t("nothing_here")));
  return box;
}

let lastIdentify = null; // {latlng, answer}: the popup is redrawn in the other language
let identifySerial = 0;

async function identify(latlng) {
  const serial = ++identifySerial;
  const popup = L.popup({ maxWidth: 320 }).setLatLng(latlng).setContent(t("loading")).openOn(map);
  try {
    const response = await fetch(`/identify?lon=${latlng.lng.toFixed(7)}&lat=${latlng.lat.toFixed(7)}`);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const answer = await response.json();
    const content = await identifyContent(answer);
    if (serial !== identifySerial) return; // a later click won
    lastIdentify = { latlng, answer, popup };
    popup.setContent(content);
  } catch (error) {
    if (serial === identifySerial) popup.setContent(t("load_failed"));
    console.warn("identify:", error);
  }
}

map.on("click", (event) => identify(event.latlng));

// ---- Embedding: an <iframe> of /embed at the current view ----

const dialog = document.getElementById("embed-dialog");
const code = document.getElementById("embed-code");

function embedSnippet() {
  const c = map.getCenter();
  const src = `${location.origin}/embed?tileset=${BASE_TILESET}&center=${c.lat.toFixed(5)},${c.lng.toFixed(5)}&zoom=${map.getZoom()}`;
  return `<iframe src="${src}" width="600" height="400" style="border:0" loading="lazy" title="${t("embed_iframe_title")}"></iframe>`;
}

document.getElementById("embed-button").addEventListener("click", () => {
  code.value = embedSnippet();
  document.getElementById("embed-copy").textContent = t("copy");
  dialog.showModal();
  code.select();
});

document.getElementById("embed-copy").addEventListener("click", async (event) => {
  code.select();
  try {
    await navigator.clipboard.writeText(code.value);
  } catch {
    document.execCommand("copy"); // pages served over plain http have no async clipboard
  }
  event.target.textContent = t("copied");
});

// ---- Language ----

setUpLanguageButton(document.getElementById("lang"));
onLanguageChange(async () => {
  setAttribution(map);
  if (dialog.open) code.value = embedSnippet();
  if (lastIdentify && map.hasLayer(lastIdentify.popup)) {
    lastIdentify.popup.setContent(await identifyContent(lastIdentify.answer));
  }
});
applyStrings();
