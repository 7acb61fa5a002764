// Every interface string of the pages, Vietnamese first, in one table, so that a translation is
// checked in one place. Place names stay as the data gives them (in Vietnamese, as road signs do).
//
// Elements name their string with data-i18n="key" (text), data-i18n-placeholder, -title, -aria-label or
// -alt; scripts call t("key", {name: value}) for strings with parameters.

export const STRINGS = {
  site_title: { vi: "Bản đồ số Nghệ An", en: "Nghệ An digital map" },
  lang_switch: { vi: "English", en: "Tiếng Việt" },
  lang_switch_title: { vi: "Switch to English", en: "Chuyển sang tiếng Việt" },
  attribution: { vi: "Dữ liệu © UBND tỉnh Nghệ An", en: "Data © Nghệ An Provincial People's Committee" },
  loading: { vi: "Đang tải…", en: "Loading…" },
  load_failed: { vi: "Không tải được dữ liệu, xin thử lại.", en: "The data could not be loaded; please try again." },

  // Viewer: search, layers, embedding
  search_placeholder: {
    vi: "Tìm địa chỉ, đường, xã/phường, mã địa chỉ số…",
    en: "Search an address, street, commune or digital code…",
  },
  search_label: { vi: "Tìm kiếm", en: "Search" },
  no_results: { vi: "Không tìm thấy kết quả", en: "No results" },
  layers_title: { vi: "Lớp bản đồ", en: "Map layers" },
  layer_communes: { vi: "Ranh giới xã, phường", en: "Commune boundaries" },
  layer_parcels: { vi: "Thửa đất", en: "Land parcels" },
  layer_addresses: { vi: "Địa chỉ số", en: "Digital addresses" },
  embed_button: { vi: "Nhúng bản đồ", en: "Embed the map" },
  embed_title: { vi: "Nhúng bản đồ vào trang web", en: "Embed the map in a web page" },
  embed_help: {
    vi: "Dán đoạn mã này vào trang web của đơn vị; bản đồ mở ở vị trí đang xem.",
    en: "Paste this code into your page; the map opens at the current view.",
  },
  copy: { vi: "Sao chép", en: "Copy" },
  copied: { vi: "Đã sao chép", en: "Copied" },
  close: { vi: "Đóng", en: "Close" },
  embed_iframe_title: { vi: "Bản đồ số Nghệ An", en: "Nghệ An digital map" },
  larger_map: { vi: "Xem bản đồ lớn", en: "View larger map" },

  // The identify popup
  parcel_title: { vi: "Tờ {sheet}, thửa {parcel}", en: "Sheet {sheet}, parcel {parcel}" },
  area: { vi: "Diện tích", en: "Area" },
  land_use: { vi: "Loại đất", en: "Land use" },
  address: { vi: "Địa chỉ", en: "Address" },
  digital_code: { vi: "Mã địa chỉ số", en: "Digital address code" },
  plus_code: { vi: "Plus code", en: "Plus code" },
  commune: { vi: "Xã, phường", en: "Commune" },
  formerly: { vi: "Trước đây: {name}", en: "Formerly: {name}" },
  nothing_here: { vi: "Không có thông tin tại điểm này.", en: "Nothing is recorded at this point." },

  // The citizen page of a digital address code
  address_page_title: { vi: "Địa chỉ số {code}", en: "Digital address {code}" },
  new_address: { vi: "Địa chỉ", en: "Address" },
  former_address: { vi: "Trước 1/7/2025", en: "Before 1 July 2025" },
  coordinates: { vi: "Tọa độ", en: "Coordinates" },
  share: { vi: "Chia sẻ liên kết", en: "Share the link" },
  link_copied: { vi: "Đã sao chép liên kết", en: "Link copied" },
  view_on_map: { vi: "Xem trên bản đồ", en: "View on the map" },
  qr_alt: { vi: "Mã QR dẫn tới trang này", en: "QR code of this page" },
  qr_download: { vi: "Tải mã QR (PNG) để in", en: "Download the QR code (PNG) to print" },
  searching: { vi: "Đang tìm địa chỉ…", en: "Looking the address up…" },
  not_found_title: { vi: "Không tìm thấy địa chỉ", en: "Address not found" },
  not_found_wrong_digit: {
    vi: "Mã “{code}” có một chữ số bị sai: chữ số kiểm tra không khớp. Hãy xem lại mã trên biển số nhà.",
    en: "The code “{code}” has a wrong digit: its check digit does not match. Please check the code on the house sign.",
  },
  not_found_unknown: { vi: "Không có địa chỉ nào mang mã {code}.", en: "No address has the code {code}." },
  not_found_not_a_code: {
    vi: "“{code}” không phải là mã địa chỉ số: mã gồm 10 chữ số, ví dụ 5401 555 865.",
    en: "“{code}” is not a digital address code: a code has 10 digits, e.g. 5401 555 865.",
  },
  did_you_mean: { vi: "Có phải bạn muốn tìm:", en: "Did you mean:" },
  another_code: { vi: "Tra mã khác", en: "Look up another code" },
  code_placeholder: { vi: "Mã địa chỉ số (10 chữ số)", en: "Digital address code (10 digits)" },
  look_up: { vi: "Tra cứu", en: "Look up" },
};

// ?lang=en opens in English; Vietnamese otherwise.
export let lang = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "vi";

export function t(key, params = {}) {
  const entry = STRINGS[key];
  if (!entry) return key;  // a missing key shows itself rather than an empty label
  return entry[lang].replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

const listeners = [];

// Called again after every switch: pages redraw what scripts wrote (popups, cards).
export function onLanguageChange(listener) {
  listeners.push(listener);
}

const TRANSLATED_ATTRIBUTES = ["placeholder", "title", "aria-label", "alt"];

export function applyStrings(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const attribute of TRANSLATED_ATTRIBUTES) {
    for (const el of root.querySelectorAll(`[data-i18n-${attribute}]`)) {
      el.setAttribute(attribute, t(el.getAttribute(`data-i18n-${attribute}`)));
    }
  }
}

export function setLanguage(next) {
  lang = next === "en" ? "en" : "vi";
  // Kept in the URL (not in storage), so that a shared link opens in the language it was sent in.
  const url = new URL(location.href);
  if (lang === "en") url.searchParams.set("lang", "en");
  else url.searchParams.delete("lang");
  history.replaceState(history.state, "", url);
  applyStrings();
  for (const listener of listeners) listener(lang);
}

// A #lang button that switches between the two languages.
export function setUpLanguageButton(button) {
  button.addEventListener("click", () => setLanguage(lang === "vi" ? "en" : "vi"));
}

// Numbers as each language writes them (82,3 in Vietnamese, 82.3 in English).
export function formatNumber(value, digits = 1) {
  return new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: digits }).format(value);
}
