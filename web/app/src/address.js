// The citizen page of a digital address code (/a/{code}, e.g. /a/5401555865 or /a/5401-555-865): the code
// comes from the URL, the address from the geocoder (/search?format=geocodejson), which also says when
// the check digit is wrong and which codes were probably meant.

import { applyStrings, lang, onLanguageChange, setUpLanguageButton, t } from "./i18n.js";
import { rasterLayer, setAttribution } from "./map_common.js";

const card = document.getElementById("address-card");
const notFound = document.getElementById("not-found");
const loading = document.getElementById("loading");

// The code as typed in the URL, and its 10 digits without the grouping people write.
const typed = decodeURIComponent(location.pathname.replace(/^\/a\//, "").replace(/\/+$/, ""));
const code = typed.replace(/[\s.-]/g, "");
const langQuery = () => (lang === "en" ? "?lang=en" : "");

let addressMap = null;

// The Damm check (layers/core/digital_code.cpp): here only to say in the page's language which of the
// two mistakes it is, a wrong digit or a code no address has; the geocoder decides what is found.
const DAMM = [
  [0, 3, 1, 7, 5, 9, 8, 6, 4, 2], [7, 0, 9, 2, 1, 5, 4, 8, 6, 3], [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
  [1, 7, 5, 0, 9, 8, 3, 4, 2, 6], [6, 1, 2, 3, 0, 4, 5, 9, 7, 8], [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
  [5, 8, 6, 9, 7, 2, 0, 1, 3, 4], [8, 9, 4, 5, 3, 6, 2, 0, 1, 7], [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
  [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];
const checkDigitMatches = (digits) => [...digits].reduce((interim, d) => DAMM[interim][Number(d)], 0) === 0;

function setText(selector, text) {
  card.querySelector(selector).textContent = text;
}

function showCard(geocoding, lat, lon) {
  loading.hidden = true;
  notFound.hidden = true;
  card.hidden = false;
  setText(".new-address", geocoding.label);
  const admin = geocoding.admin ?? {};
  const former = [admin.former_commune, admin.former_district].filter(Boolean).join(", ");
  setText(".former-address", former);
  card.querySelector(".former-row").hidden = former === "";
  setText(".digital-code", geocoding.digital_code);
  setText(".plus-code", geocoding.plus_code ?? "");
  card.querySelector(".plus-code").closest(".row").hidden = !geocoding.plus_code;
  setText(".coordinates", `${lat.toFixed(6)}, ${lon.toFixed(6)}`);
  document.title = `${t("address_page_title", { code: geocoding.digital_code })} — ${geocoding.label}`;

  card.querySelector(".share-link").href = location.href;
  card.querySelector(".map-link").href = `/map${langQuery()}#18/${lat.toFixed(5)}/${lon.toFixed(5)}`;
  // The QR code of the page, in the normalised code the server writes into it.
  document.getElementById("qr").src = `/a/${geocoding.digital_code}.svg`;
  card.querySelector(".qr-png").href = `/a/${geocoding.digital_code}.png`;

  if (!addressMap) {
    addressMap = L.map("address-map", { scrollWheelZoom: false, maxZoom: 20 }).setView([lat, lon], 17);
    rasterLayer("basemap").then((layer) => layer.addTo(addressMap)).catch((error) => console.warn("basemap:", error));
    L.marker([lat, lon], { keyboard: false }).addTo(addressMap);
    window.bandoso = { map: addressMap };
  }
  setAttribution(addressMap);
}

// explain: our sentence in the page's language; hint: the geocoder's own message when it gave one.
function showNotFound({ explain = "", hint = "", suggestions = [] }) {
  loading.hidden = true;
  card.hidden = true;
  notFound.hidden = false;
  const explainEl = notFound.querySelector(".explain");
  explainEl.textContent = hint ? explain : "";
  explainEl.hidden = !hint || !explain;
  notFound.querySelector(".hint").textContent = hint || explain;
  const list = notFound.querySelector(".suggestions");
  list.replaceChildren(
    ...suggestions.map((suggested) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.className = "suggestion";
      a.href = `/a/${encodeURIComponent(suggested)}${langQuery()}`;
      a.textContent = suggested;
      li.append(a);
      return li;
    }),
  );
  notFound.querySelector(".did-you-mean").hidden = suggestions.length === 0;
  document.title = `${t("not_found_title")} — ${t("site_title")}`;
}

async function load() {
  if (!/^[1-9][0-9]{9}$/.test(code)) {
    showNotFound({ explain: t("not_found_not_a_code", { code: typed }) });
    return;
  }
  try {
    const response = await fetch(
      `/search?format=geocodejson&limit=5&accept-language=${lang}&q=${encodeURIComponent(code)}`,
    );
    const answer = await response.json();
    if (!response.ok) {
      showNotFound({ explain: t("not_found_unknown", { code }), hint: answer.error?.message ?? "" });
      return;
    }
    // A wrong check digit (the geocoder says so and lists the codes one slip away), or a code no address
    // has (a message too, or simply no such address among the features).
    const feature = answer.message ? null : answer.features?.find((f) => f.properties?.geocoding?.digital_code === code);
    if (!feature) {
      showNotFound({
        explain: checkDigitMatches(code) ? t("not_found_unknown", { code }) : t("not_found_wrong_digit", { code: typed }),
        hint: answer.message ?? "",
        suggestions: answer.suggestions ?? [],
      });
      return;
    }
    const [lon, lat] = feature.geometry.coordinates;
    showCard(feature.properties.geocoding, lat, lon);
  } catch (error) {
    console.warn("search:", error);
    showNotFound({ explain: t("load_failed") });
  }
}

// Share: the phone's share sheet where there is one, else the clipboard; the link itself stays a plain
// link to this page (a long press copies it too).
card.querySelector(".share-link").addEventListener("click", async (event) => {
  const link = event.currentTarget;
  const status = card.querySelector(".share-status");
  if (navigator.share) {
    event.preventDefault();
    try {
      await navigator.share({ title: document.title, url: location.href });
    } catch {
      // cancelled by the user
    }
  } else if (navigator.clipboard) {
    event.preventDefault();
    try {
      await navigator.clipboard.writeText(location.href);
      status.textContent = t("link_copied");
    } catch {
      location.href = link.href;
    }
  }
});

document.getElementById("another").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = document.getElementById("another-code").value.trim();
  if (value) location.href = `/a/${encodeURIComponent(value)}${langQuery()}`;
});

setUpLanguageButton(document.getElementById("lang"));
// The address's words (unit names) come from the geocoder in the chosen language: ask again.
onLanguageChange(load);
applyStrings();
load();
