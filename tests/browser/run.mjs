// Browser checks of the map pages (web/CONTRACT.md) in Debian's headless chromium, driven by playwright-core.
// Usage: node run.mjs CHECK FACTS.json
//   FACTS.json (written by browser_test.cpp): base (http://localhost:PORT), artifacts, chromium, and the
//   fixture facts: address {text, lon, lat, digital_code, ...}, parcel {sheet_no, parcel_no, owner_name, lon,
//   lat, ...}, wrong_code {code, message, suggestions}, unknown_code.
// Exits 0 when the check holds; otherwise prints what differs and exits 1. Screenshots go to artifacts/.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const [check, factsFile] = process.argv.slice(2);
const facts = JSON.parse(fs.readFileSync(factsFile, 'utf8'));
const base = facts.base;
const artifacts = facts.artifacts;
fs.mkdirSync(artifacts, { recursive: true });

const TIMEOUT = 60_000;

function log(message) {
  process.stdout.write(`[${check}] ${message}\n`);
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

// Geodesic enough: haversine on the mean Earth radius, in metres.
function distance(lat1, lon1, lat2, lon2) {
  const rad = Math.PI / 180;
  const dlat = (lat2 - lat1) * rad;
  const dlon = (lon2 - lon1) * rad;
  const a = Math.sin(dlat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dlon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
}

function artifact(name) {
  return path.join(artifacts, name);
}

// A page that records what goes wrong in it and in its frames: console errors, uncaught exceptions, failed
// requests (but not tiles Leaflet cancels on purpose), HTTP errors, and requests to anything but `allowed`
// origins (nothing may come from the internet).
async function watchedPage(context, allowed = [base]) {
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const problems = [];
  const origins = new Set(allowed.map((u) => new URL(u).origin));
  // Chromium asks for /favicon.ico by itself; its 404 is not the page's error.
  const byBrowser = (url) => new URL(url).pathname === '/favicon.ico';
  page.on('console', (m) => {
    if (m.type() === 'error' && !byBrowser(m.location().url || 'about:blank')) problems.push(`console error: ${m.text()} (${m.location().url || 'inline'})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    const failure = r.failure()?.errorText ?? '';
    if (!failure.includes('ERR_ABORTED')) problems.push(`request failed: ${r.url()} ${failure}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !byBrowser(r.url()) && !page.expectedErrors?.some((u) => r.url().includes(u)))
      problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on('request', (r) => {
    const url = r.url();
    if (url.startsWith('data:') || url.startsWith('blob:') || url === 'about:blank') return;
    if (!origins.has(new URL(url).origin)) problems.push(`request to another origin: ${url}`);
  });
  page.problems = problems;
  return page;
}

function assertNoProblems(page) {
  assert(page.problems.length === 0, `the page had problems:\n  ${page.problems.join('\n  ')}`);
}

// Waits until the Leaflet map in `root` (a page or a frame) shows at least one loaded tile and no tile is
// still loading; returns the tile URLs. `match` narrows to the tiles whose src contains it.
async function waitForTiles(root, mapSelector = '#map', match = '/tiles/') {
  await root.waitForFunction(
    ([sel, m]) => {
      const tiles = [...document.querySelectorAll(`${sel} img.leaflet-tile`)].filter((t) => t.src.includes(m));
      return tiles.some((t) => t.classList.contains('leaflet-tile-loaded')) && tiles.every((t) => t.complete);
    },
    [mapSelector, match],
    { timeout: TIMEOUT },
  );
  return root.evaluate(
    ([sel, m]) =>
      [...document.querySelectorAll(`${sel} img.leaflet-tile`)]
        .filter((t) => t.src.includes(m))
        .map((t) => ({ src: t.src, loaded: t.classList.contains('leaflet-tile-loaded'), width: t.naturalWidth })),
    [mapSelector, match],
  );
}

// The map's view through window.bandoso.map.
async function mapView(root) {
  return root.evaluate(() => {
    const m = window.bandoso.map;
    const c = m.getCenter();
    return { zoom: m.getZoom(), lat: c.lat, lon: c.lng };
  });
}

// Counts the pixels of a PNG (decoded by the browser on a blank page) that differ from its most common
// colour, and the distinct colours (quantised to 4 bits per channel).
async function pixelStats(context, png) {
  const page = await context.newPage();
  try {
    return await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const ctx = canvas.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      const counts = new Map();
      const quantised = new Set();
      for (let i = 0; i < data.length; i += 4) {
        const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
        counts.set(key, (counts.get(key) ?? 0) + 1);
        quantised.add(((data[i] >> 4) << 8) | ((data[i + 1] >> 4) << 4) | (data[i + 2] >> 4));
      }
      let background = 0;
      for (const n of counts.values()) background = Math.max(background, n);
      const total = data.length / 4;
      return { total, nonBackground: total - background, colours: quantised.size };
    }, png.toString('base64'));
  } finally {
    await page.close();
  }
}

// A small static server on another origin (127.0.0.1 rather than localhost): the test pages and the npm
// packages a departmental web app would bundle.
async function staticServer() {
  const roots = {
    '/pages/': path.join(here, 'pages'),
    '/node_modules/leaflet/dist/': path.join(here, 'node_modules/leaflet/dist'),
    '/node_modules/leaflet-control-geocoder/dist/': path.join(here, 'node_modules/leaflet-control-geocoder/dist'),
  };
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml', '.map': 'application/json' };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    for (const [prefix, dir] of Object.entries(roots)) {
      if (!url.pathname.startsWith(prefix)) continue;
      const file = path.join(dir, decodeURIComponent(url.pathname.slice(prefix.length)));
      if (!file.startsWith(dir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) break;
      res.writeHead(200, { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream' });
      fs.createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, close: () => new Promise((resolve) => server.close(resolve)) };
}

function fixed5(x) {
  return Number(x).toFixed(5);
}

function digits(text) {
  return String(text).replace(/\D/g, '');
}

// ================================================ the checks ================================================

const checks = {
  // The viewer loads with no console errors, draws non-blank map pixels, and loads nothing from the internet.
  async viewer(browser) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await watchedPage(context);
    const response = await page.goto(`${base}/`);
    assert(response.status() === 200, `GET / answered ${response.status()}`);
    assert(
      (response.headers()['content-type'] ?? '').startsWith('text/html'),
      `GET / with a browser's Accept answered ${response.headers()['content-type']}, not HTML`,
    );
    await page.waitForSelector('#map');
    await page.waitForFunction(() => window.bandoso && window.bandoso.map, null, { timeout: TIMEOUT });
    const version = await page.evaluate(() => window.L && window.L.version);
    assert(version === '1.9.4', `Leaflet ${version}, not 1.9.4`);
    const tiles = await waitForTiles(page, '#map', '/tiles/basemap/');
    const loaded = tiles.filter((t) => t.loaded);
    assert(loaded.length > 0, 'no basemap tile loaded');
    assert(loaded.every((t) => t.width === 256 || t.width === 512), `tiles of odd sizes: ${JSON.stringify(tiles)}`);
    assert(
      loaded.every((t) => /\/tiles\/basemap\/(512\/)?\d+\/\d+\/\d+(@2x)?\.png/.test(t.src)),
      `tile URLs: ${loaded.map((t) => t.src).join(' ')}`,
    );
    await page.waitForTimeout(300); // Leaflet's fade-in
    await page.screenshot({ path: artifact('viewer.png') });
    // The map's own pixels, without the controls drawn over it.
    await page.addStyleTag({ content: '.leaflet-control-container { visibility: hidden !important; }' });
    const png = await page.locator('#map').screenshot({ path: artifact('viewer-map-only.png') });
    const stats = await pixelStats(context, png);
    log(`${loaded.length} tiles loaded; map pixels: ${stats.nonBackground} of ${stats.total} not background, ${stats.colours} colours`);
    assert(stats.nonBackground / stats.total > 0.01, `the map is blank: ${JSON.stringify(stats)}`);
    assert(stats.colours >= 8, `the map has only ${stats.colours} colours: ${JSON.stringify(stats)}`);
    assertNoProblems(page);

    // GET /map is the same page; the JSON landing page stays for clients.
    const map = await page.goto(`${base}/map`);
    assert(map.status() === 200 && (map.headers()['content-type'] ?? '').startsWith('text/html'), 'GET /map is not the viewer');
    await page.waitForFunction(() => window.bandoso && window.bandoso.map, null, { timeout: TIMEOUT });
    const json = await context.request.get(`${base}/`, { headers: { Accept: 'application/json' } });
    assert((json.headers()['content-type'] ?? '').includes('json'), `GET / with Accept: application/json answered ${json.headers()['content-type']}`);
    const fjson = await context.request.get(`${base}/?f=json`);
    assert((fjson.headers()['content-type'] ?? '').includes('json'), `GET /?f=json answered ${fjson.headers()['content-type']}`);
    assertNoProblems(page);
  },

  // The viewer's controls: language, overlays, scale bar, the position in the hash, the embed dialog, a phone.
  async viewer_controls(browser) {
    const { address } = facts;
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await watchedPage(context);

    // ?lang=en opens in English; #lang switches to Vietnamese and back.
    await page.goto(`${base}/?lang=en`);
    await page.waitForFunction(() => window.bandoso && window.bandoso.map, null, { timeout: TIMEOUT });
    assert((await page.evaluate(() => document.documentElement.lang)) === 'en', '?lang=en did not open in English');
    const englishText = await page.locator('body').innerText();
    await page.click('#lang');
    await page.waitForFunction(() => document.documentElement.lang === 'vi', null, { timeout: 5000 });
    const vietnameseText = await page.locator('body').innerText();
    assert(englishText !== vietnameseText, 'switching the language changed no text');
    await page.click('#lang');
    await page.waitForFunction(() => document.documentElement.lang === 'en', null, { timeout: 5000 });

    // A hash opens there.
    await page.goto(`${base}/#16/${fixed5(address.lat)}/${fixed5(address.lon)}`);
    await page.waitForFunction(() => window.bandoso && window.bandoso.map, null, { timeout: TIMEOUT });
    let view = await mapView(page);
    assert(view.zoom === 16, `#16/... opened at zoom ${view.zoom}`);
    assert(distance(view.lat, view.lon, address.lat, address.lon) < 5, `#16/lat/lon opened at ${JSON.stringify(view)}`);
    assert((await page.evaluate(() => document.documentElement.lang)) === 'vi', 'the viewer does not open in Vietnamese');
    await waitForTiles(page, '#map', '/tiles/basemap/');

    // Moving updates the hash: #{zoom}/{lat}/{lon} with 5 decimals.
    await page.evaluate(() => window.bandoso.map.setView([18.7, 105.7], 15, { animate: false }));
    await page.waitForFunction(() => location.hash === '#15/18.70000/105.70000', null, { timeout: 5000 }).catch(async () => {
      throw new Error(`after setView([18.7, 105.7], 15) the hash is ${await page.evaluate(() => location.hash)}`);
    });

    // The overlays: each checkbox adds and removes its tileset's tiles.
    const values = await page.$$eval('#layers input[type=checkbox][name=layer]', (els) => els.map((e) => e.value).sort());
    assert(JSON.stringify(values) === '["addresses","communes","parcels"]', `#layers checkboxes: ${JSON.stringify(values)}`);
    const tilesets = { communes: 'communes', parcels: 'cadastral', addresses: 'addresses' };
    await page.evaluate(([lat, lon]) => window.bandoso.map.setView([lat, lon], 17, { animate: false }), [address.lat, address.lon]);
    for (const [value, tileset] of Object.entries(tilesets)) {
      const box = page.locator(`#layers input[type=checkbox][name=layer][value=${value}]`);
      await box.check();
      await waitForTiles(page, '#map', `/tiles/${tileset}/`);
      await box.uncheck();
      await page.waitForFunction(
        (t) => ![...document.querySelectorAll('#map img.leaflet-tile')].some((i) => i.src.includes(`/tiles/${t}/`)),
        tileset,
        { timeout: 5000 },
      );
    }
    await page.locator('#layers input[value=parcels]').check();
    await waitForTiles(page, '#map', '/tiles/cadastral/');

    // The scale bar.
    assert(await page.locator('.leaflet-control-scale').isVisible(), 'no Leaflet scale bar');

    // The embed dialog holds a ready snippet of the current view.
    await page.click('#embed-button');
    await page.locator('#embed-dialog').waitFor({ state: 'visible', timeout: 5000 });
    const code = await page.locator('textarea#embed-code').inputValue();
    const src = /<iframe[^>]*\ssrc="([^"]+)"/.exec(code)?.[1]?.replaceAll('&amp;', '&');
    assert(src, `#embed-code holds no <iframe src="...">: ${code}`);
    const url = new URL(src);
    view = await mapView(page);
    const [lat, lon] = (url.searchParams.get('center') ?? '').split(',').map(Number);
    assert(url.origin === base && url.pathname === '/embed', `the snippet's src is ${src}`);
    assert(url.searchParams.get('tileset') === 'basemap', `the snippet's tileset: ${src}`);
    assert(Number(url.searchParams.get('zoom')) === view.zoom, `the snippet's zoom is not the view's ${view.zoom}: ${src}`);
    assert(distance(lat, lon, view.lat, view.lon) < 5, `the snippet's center is not the view's ${JSON.stringify(view)}: ${src}`);
    await page.screenshot({ path: artifact('viewer-embed-dialog.png') });
    assertNoProblems(page);

    // The snippet works.
    const embedded = await watchedPage(context);
    await embedded.goto(src);
    await waitForTiles(embedded, '#map', '/tiles/basemap/');
    assertNoProblems(embedded);

    // A phone: the page fits 360 px, the search and the map are there.
    const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const small = await watchedPage(phone);
    await small.goto(`${base}/#15/${fixed5(address.lat)}/${fixed5(address.lon)}`);
    await waitForTiles(small, '#map', '/tiles/basemap/');
    const fit = await small.evaluate(() => {
      const r = document.querySelector('#map').getBoundingClientRect();
      const s = document.querySelector('#search').getBoundingClientRect();
      return {
        viewport: document.querySelector('meta[name=viewport]')?.content ?? '',
        scrollWidth: document.documentElement.scrollWidth,
        map: { width: r.width, height: r.height },
        search: { left: s.left, right: s.right, width: s.width },
      };
    });
    log(`phone: ${JSON.stringify(fit)}`);
    assert(fit.viewport.includes('width=device-width'), `no viewport meta: "${fit.viewport}"`);
    assert(fit.scrollWidth <= 360, `the page is ${fit.scrollWidth} px wide on a 360 px phone`);
    assert(fit.map.width >= 300 && fit.map.height >= 300, `the map is ${fit.map.width}×${fit.map.height} on a phone`);
    assert(fit.search.width > 0 && fit.search.left >= 0 && fit.search.right <= 360, `#search does not fit: ${JSON.stringify(fit.search)}`);
    await small.screenshot({ path: artifact('viewer-phone.png') });
    assertNoProblems(small);
  },

  // Typing a fixture address shows suggestions; picking the first flies the map there and updates the hash.
  async search(browser) {
    const { address } = facts;
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await watchedPage(context);
    await page.goto(`${base}/`);
    await page.waitForFunction(() => window.bandoso && window.bandoso.map, null, { timeout: TIMEOUT });
    await waitForTiles(page, '#map', '/tiles/basemap/');
    const hashBefore = await page.evaluate(() => location.hash);
    const requests = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/autocomplete') requests.push(new URL(r.url()).searchParams.get('q'));
    });
    await page.locator('#search').pressSequentially(address.text, { delay: 25 });
    await page.locator('#suggestions li.suggestion').first().waitFor({ state: 'visible', timeout: 10_000 });
    await page.waitForTimeout(400); // the last debounced answer
    const suggestions = await page.locator('#suggestions li.suggestion').allInnerTexts();
    log(`${requests.length} autocomplete requests for ${address.text.length} characters typed; ${suggestions.length} suggestions, first: ${suggestions[0]}`);
    assert(suggestions.length >= 1 && suggestions.length <= 10, `${suggestions.length} suggestions`);
    assert(requests.length >= 1 && requests.length < address.text.length / 2, `${requests.length} /autocomplete requests: not debounced`);
    assert(requests.every((q) => q.length >= 2), `/autocomplete asked with fewer than 2 characters: ${JSON.stringify(requests)}`);
    assert(suggestions[0].includes(address.street), `the first suggestion "${suggestions[0]}" is not on ${address.street}`);
    await page.screenshot({ path: artifact('search-suggestions.png') });
    await page.locator('#suggestions li.suggestion').first().click();
    // flyTo animates: wait until the view settles on the address.
    await page
      .waitForFunction(
        ([lat, lon]) => {
          const m = window.bandoso.map;
          const c = m.getCenter();
          return m.getZoom() === 18 && Math.abs(c.lat - lat) < 0.0005 && Math.abs(c.lng - lon) < 0.0005;
        },
        [address.lat, address.lon],
        { timeout: 15_000 },
      )
      .catch(async () => {
        throw new Error(`the map did not fly to the address at zoom 18: ${JSON.stringify(await mapView(page))}`);
      });
    await page.waitForTimeout(500);
    const view = await mapView(page);
    const d = distance(view.lat, view.lon, address.lat, address.lon);
    log(`map at zoom ${view.zoom}, ${d.toFixed(1)} m from ${address.display_name}`);
    assert(d < 50, `the map centre is ${d.toFixed(1)} m from the address`);
    const hash = await page.evaluate(() => location.hash);
    const m = /^#(\d+)\/(-?\d+\.\d{5})\/(-?\d+\.\d{5})$/.exec(hash);
    assert(hash !== hashBefore && m, `the hash is "${hash}" (before: "${hashBefore}")`);
    assert(Number(m[1]) === 18 && distance(Number(m[2]), Number(m[3]), address.lat, address.lon) < 50, `the hash ${hash} is not the address`);
    await waitForTiles(page, '#map', '/tiles/basemap/');
    await page.screenshot({ path: artifact('search-selected.png') });
    assertNoProblems(page);
  },

  // A click on a parcel: the popup names its sheet and number, area and land use; never its owner.
  async parcel_popup(browser) {
    const { parcel } = facts;
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await watchedPage(context);
    const identified = [];
    page.on('response', async (r) => {
      if (new URL(r.url()).pathname === '/identify') identified.push({ url: r.url(), body: await r.text().catch(() => '') });
    });
    await page.goto(`${base}/#19/${fixed5(parcel.lat)}/${fixed5(parcel.lon)}`);
    await page.waitForFunction(() => window.bandoso && window.bandoso.map, null, { timeout: TIMEOUT });
    const view = await mapView(page);
    assert(view.zoom === 19 && distance(view.lat, view.lon, parcel.lat, parcel.lon) < 2, `#19/lat/lon opened at ${JSON.stringify(view)}`);
    await page.locator('#layers input[value=parcels]').check();
    await waitForTiles(page, '#map', '/tiles/cadastral/');
    // Click the parcel's interior point exactly (the hash rounds the centre to ~1 m).
    const point = await page.evaluate(([lat, lon]) => window.bandoso.map.latLngToContainerPoint([lat, lon]), [parcel.lat, parcel.lon]);
    const box = await page.locator('#map').boundingBox();
    await page.mouse.click(box.x + point.x, box.y + point.y);
    const popup = page.locator('.leaflet-popup-content');
    await popup.locator('.parcel').waitFor({ state: 'visible', timeout: 15_000 });
    await page.waitForTimeout(300);
    const text = await popup.innerText();
    log(`popup: ${text.replace(/\s+/g, ' ')}`);
    assert(identified.length >= 1, 'no GET /identify');
    const asked = new URL(identified[0].url).searchParams;
    assert(distance(Number(asked.get('lat')), Number(asked.get('lon')), parcel.lat, parcel.lon) < 2, `identify asked at ${identified[0].url}`);
    const parcelText = await popup.locator('.parcel').innerText();
    const expected = `Tờ ${parcel.sheet_no}, thửa ${parcel.parcel_no}`;
    assert(parcelText.includes(expected), `.parcel "${parcelText}" lacks "${expected}"`);
    assert(parcelText.includes('m²'), `.parcel "${parcelText}" has no area in m²`);
    assert(parcelText.includes(parcel.land_use), `.parcel "${parcelText}" lacks the land-use code ${parcel.land_use}`);
    assert((await popup.locator('.commune').count()) === 1, 'the popup has no .commune section');
    const html = await page.content();
    for (const [where, s] of [['the popup', text], ['the page', html], ['/identify', identified.map((i) => i.body).join('\n')]])
      assert(!s.includes(parcel.owner_name), `the owner's name "${parcel.owner_name}" is in ${where}`);
    assert(!identified.some((i) => i.body.includes('owner_name')), '/identify answered owner_name');
    await waitForTiles(page, '#map', '/tiles/');
    await page.screenshot({ path: artifact('parcel-popup.png') });
    assertNoProblems(page);
  },

  // The embed page in an iframe of another origin's page: tiles, its marker, #map filling the frame.
  async embed(browser) {
    const { address } = facts;
    const statics = await staticServer();
    try {
      const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
      const page = await watchedPage(context, [base, statics.origin]);
      const src = `${base}/embed?tileset=basemap&center=${fixed5(address.lat)},${fixed5(address.lon)}&zoom=16&marker=${fixed5(address.lat)},${fixed5(address.lon)}`;
      await page.goto(`${statics.origin}/pages/embed.html?src=${encodeURIComponent(src)}`);
      const frameElement = await page.waitForSelector('#frame');
      let frame = null;
      for (let i = 0; i < 100 && !(frame = await frameElement.contentFrame())?.url().includes('/embed'); ++i) await page.waitForTimeout(100);
      assert(frame && frame.url() === src, `the iframe holds ${frame?.url()}`);
      await frame.waitForFunction(() => window.bandoso && window.bandoso.map, null, { timeout: TIMEOUT });
      const tiles = await waitForTiles(frame, '#map', '/tiles/basemap/');
      const view = await mapView(frame);
      const layout = await frame.evaluate(() => {
        const r = document.querySelector('#map').getBoundingClientRect();
        return { map: [r.left, r.top, r.width, r.height], window: [innerWidth, innerHeight], markers: document.querySelectorAll('#map .leaflet-marker-icon').length };
      });
      log(`${tiles.length} tiles in the frame, view ${JSON.stringify(view)}, layout ${JSON.stringify(layout)}`);
      assert(view.zoom === 16 && distance(view.lat, view.lon, address.lat, address.lon) < 5, `the frame's view is ${JSON.stringify(view)}`);
      assert(layout.markers === 1, `${layout.markers} markers in the frame`);
      const [left, top, width, height] = layout.map;
      assert(left === 0 && top === 0 && Math.abs(width - layout.window[0]) <= 1 && Math.abs(height - layout.window[1]) <= 1,
        `#map does not fill the frame: ${JSON.stringify(layout)}`);
      await page.waitForTimeout(300);
      await page.screenshot({ path: artifact('embed-in-iframe.png') });
      assertNoProblems(page);

      // Bad parameters: 400 with a JSON error.
      for (const query of ['zoom=99', 'zoom=abc', 'center=north,east', 'tileset=no_such_tileset']) {
        const r = await context.request.get(`${base}/embed?${query}`);
        assert(r.status() === 400 && (r.headers()['content-type'] ?? '').includes('json'),
          `/embed?${query} answered ${r.status()} ${r.headers()['content-type']}`);
      }
      // Defaults: basemap and the data's extent.
      const plain = await watchedPage(context);
      await plain.goto(`${base}/embed`);
      await waitForTiles(plain, '#map', '/tiles/basemap/');
      assertNoProblems(plain);
    } finally {
      await statics.close();
    }
  },

  // The citizen page of a digital code typed with dashes, and its QR code, which decodes to the page URL.
  async citizen(browser) {
    const { address } = facts;
    const code = address.digital_code;
    const dashed = `${code.slice(0, 4)}-${code.slice(4, 7)}-${code.slice(7)}`;
    const pageUrl = `${base}/a/${code}`;
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await watchedPage(context);
    const response = await page.goto(`${base}/a/${dashed}`);
    assert(response.status() === 200, `GET /a/${dashed} answered ${response.status()}`);
    const card = page.locator('#address-card');
    await card.waitFor({ state: 'visible', timeout: TIMEOUT });
    const field = async (selector) => (await card.locator(selector).innerText()).trim();
    const fields = {
      newAddress: await field('.new-address'),
      formerAddress: await field('.former-address'),
      digitalCode: await field('.digital-code'),
      plusCode: await field('.plus-code'),
      coordinates: await field('.coordinates'),
    };
    log(`card: ${JSON.stringify(fields)}`);
    assert(fields.newAddress.includes(address.street) && fields.newAddress.includes(address.commune),
      `.new-address "${fields.newAddress}" lacks ${address.street} or ${address.commune}`);
    assert(new RegExp(`(^|\\D)${address.house_number}(\\D|$)`).test(fields.newAddress), `.new-address "${fields.newAddress}" lacks the house number ${address.house_number}`);
    if (address.former_commune) assert(fields.formerAddress.includes(address.former_commune), `.former-address "${fields.formerAddress}" lacks ${address.former_commune}`);
    assert(digits(fields.digitalCode).endsWith(code) && digits(fields.digitalCode).length === 10, `.digital-code "${fields.digitalCode}" is not ${code}`);
    assert(fields.plusCode.replace(/\s/g, '').includes(address.plus_code), `.plus-code "${fields.plusCode}" is not ${address.plus_code}`);
    const [lat, lon] = fields.coordinates.split(',').map((s) => Number(s.trim()));
    assert(distance(lat, lon, address.lat, address.lon) < 1, `.coordinates "${fields.coordinates}" are not ${address.lat}, ${address.lon}`);
    await waitForTiles(page, '#address-map', '/tiles/');
    assert((await page.locator('#address-map .leaflet-marker-icon').count()) === 1, '#address-map has no marker');
    const share = await page.locator('a.share-link').getAttribute('href');
    const shareUrl = new URL(share, page.url()).href;
    assert(shareUrl === pageUrl || shareUrl === page.url(), `a.share-link goes to ${shareUrl}, not ${pageUrl}`);
    const qrSrc = new URL(await page.locator('img#qr').getAttribute('src'), page.url());
    assert(qrSrc.origin === base && qrSrc.pathname === `/a/${code}.svg`, `img#qr src is ${qrSrc.href}, not /a/${code}.svg`);
    await page.waitForFunction(() => document.querySelector('img#qr').complete && document.querySelector('img#qr').naturalWidth > 0, null, { timeout: 10_000 });
    const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(scroll <= 390, `the citizen page is ${scroll} px wide on a 390 px phone`);
    await page.screenshot({ path: artifact('citizen-page.png'), fullPage: true });
    assertNoProblems(page);

    // The QR code as a PNG, decoded by zbarimg.
    const zbar = promisify(execFile);
    const png = await context.request.get(`${base}/a/${code}.png`);
    assert(png.status() === 200 && png.headers()['content-type'] === 'image/png', `/a/${code}.png answered ${png.status()} ${png.headers()['content-type']}`);
    const bytes = await png.body();
    const width = bytes.readUInt32BE(16);
    const qrFile = artifact(`qr-${code}.png`);
    fs.writeFileSync(qrFile, bytes);
    const decoded = (await zbar('/usr/bin/zbarimg', ['-q', '--raw', qrFile])).stdout.trim();
    log(`QR PNG ${width} px decodes to ${decoded}`);
    assert(width >= 200, `the QR PNG is ${width} px wide`);
    assert(decoded === pageUrl, `the QR PNG decodes to "${decoded}", not "${pageUrl}"`);
    // The same from the dashed form, and the SVG.
    const dashedPng = await context.request.get(`${base}/a/${dashed}.png`);
    assert(dashedPng.status() === 200, `/a/${dashed}.png answered ${dashedPng.status()}`);
    fs.writeFileSync(artifact(`qr-${dashed}.png`), await dashedPng.body());
    const decodedDashed = (await zbar('/usr/bin/zbarimg', ['-q', '--raw', artifact(`qr-${dashed}.png`)])).stdout.trim();
    assert(decodedDashed === pageUrl, `the QR of /a/${dashed}.png decodes to "${decodedDashed}", not "${pageUrl}"`);
    const svg = await context.request.get(`${base}/a/${code}.svg`);
    assert(svg.status() === 200 && (svg.headers()['content-type'] ?? '').startsWith('image/svg+xml'), `/a/${code}.svg answered ${svg.status()} ${svg.headers()['content-type']}`);
    // The QR code as the page shows it (the SVG drawn by Chromium), with a margin of the page's background.
    const box = await page.locator('img#qr').boundingBox();
    const onPage = artifact('qr-on-page.png');
    await page.screenshot({ path: onPage, fullPage: true, clip: { x: Math.max(0, box.x - 16), y: Math.max(0, box.y - 16), width: box.width + 32, height: box.height + 32 } });
    const decodedOnPage = (await zbar('/usr/bin/zbarimg', ['-q', '--raw', onPage])).stdout.trim();
    assert(decodedOnPage === pageUrl, `the QR code on the page decodes to "${decodedOnPage}", not "${pageUrl}"`);
    // An unknown code: 404 JSON.
    if (facts.unknown_code) {
      for (const ext of ['png', 'svg']) {
        const r = await context.request.get(`${base}/a/${facts.unknown_code}.${ext}`);
        assert(r.status() === 404 && (r.headers()['content-type'] ?? '').includes('json'), `/a/${facts.unknown_code}.${ext} (unknown) answered ${r.status()} ${r.headers()['content-type']}`);
      }
    }
  },

  // A code with a wrong check digit: #not-found with the geocoder's hint and links to the suggested codes.
  async citizen_not_found(browser) {
    const wrong = facts.wrong_code;
    assert(wrong.message && wrong.suggestions.length > 0, `the geocoder has no hint for ${wrong.code}: ${JSON.stringify(wrong)}`);
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await watchedPage(context);
    page.expectedErrors = [`/a/${wrong.code}`]; // the page may answer 404 (and Chromium logs it)
    await page.goto(`${base}/a/${wrong.code}`);
    const notFound = page.locator('#not-found');
    await notFound.waitFor({ state: 'visible', timeout: TIMEOUT });
    const hint = (await notFound.locator('.hint').innerText()).trim();
    const links = await notFound.locator('a.suggestion').evaluateAll((as) => as.map((a) => a.href));
    log(`hint: ${hint}; suggestions: ${links.join(' ')}`);
    assert(hint.length > 0, '.hint is empty');
    assert(hint.includes(wrong.message) || wrong.message.includes(hint), `.hint "${hint}" is not the geocoder's "${wrong.message}"`);
    const expected = wrong.suggestions.map((c) => `${base}/a/${c}`).sort();
    assert(JSON.stringify([...links].sort()) === JSON.stringify(expected), `a.suggestion links ${JSON.stringify(links)}, expected ${JSON.stringify(expected)}`);
    assert((await page.locator('#address-card').count()) === 0 || !(await page.locator('#address-card').isVisible()), '#address-card shows for a wrong code');
    await page.screenshot({ path: artifact('citizen-not-found.png'), fullPage: true });
    await page.locator('a.suggestion').first().click();
    await page.locator('#address-card').waitFor({ state: 'visible', timeout: TIMEOUT });
    page.problems = page.problems.filter((p) => !(p.startsWith('console error') && p.includes('404')));
    assertNoProblems(page);
  },

  // A real client: leaflet-control-geocoder's Nominatim geocoder with serviceUrl = our server finds the address.
  async geocoder_client(browser) {
    const { address } = facts;
    const statics = await staticServer();
    try {
      const context = await browser.newContext({ viewport: { width: 1024, height: 700 } });
      const page = await watchedPage(context, [base, statics.origin]);
      await page.goto(`${statics.origin}/pages/geocoder.html?base=${encodeURIComponent(base)}`);
      await page.waitForFunction(() => window.client && window.client.geocoder, null, { timeout: TIMEOUT });
      const results = await page.evaluate(async (text) => {
        const found = await window.client.geocoder.geocode(text);
        return found.map((r) => ({ name: r.name, lat: r.center.lat, lon: r.center.lng }));
      }, address.text);
      assert(results.length >= 1, `no result for "${address.text}"`);
      const d = distance(results[0].lat, results[0].lon, address.lat, address.lon);
      log(`geocode("${address.text}"): ${results.length} results, first "${results[0].name}" ${d.toFixed(1)} m away`);
      assert(d < 50, `the first result is ${d.toFixed(1)} m from the address: ${JSON.stringify(results[0])}`);

      // Through the control's own UI: type, Enter, pick the first result; the map goes there.
      const input = page.locator('.leaflet-control-geocoder-form input');
      await input.fill(address.text);
      await input.press('Enter');
      const alternatives = page.locator('.leaflet-control-geocoder-alternatives li');
      const moved = () =>
        page.evaluate(([lat, lon]) => {
          const c = window.client.map.getCenter();
          return Math.abs(c.lat - lat) < 0.0005 && Math.abs(c.lng - lon) < 0.0005;
        }, [address.lat, address.lon]);
      for (let i = 0; i < 100 && !(await moved()); ++i) {
        if ((await alternatives.count()) > 0 && (await alternatives.first().isVisible())) await alternatives.first().click();
        await page.waitForTimeout(100);
      }
      const c = await page.evaluate(() => window.client.map.getCenter());
      const moveD = distance(c.lat, c.lng, address.lat, address.lon);
      assert(moveD < 50, `after the control's search the map is ${moveD.toFixed(1)} m from the address`);
      await waitForTiles(page, '#map', '/tiles/basemap/');
      await page.screenshot({ path: artifact('geocoder-client.png') });
      assertNoProblems(page);
    } finally {
      await statics.close();
    }
  },
};

// ================================================== main ==================================================

if (!checks[check]) {
  console.error(`usage: node run.mjs {${Object.keys(checks).join('|')}} FACTS.json`);
  process.exit(2);
}
const watchdog = setTimeout(() => {
  console.error(`[${check}] timed out after 240 s`);
  process.exit(1);
}, 240_000);
let browser;
let failed = false;
const started = Date.now();
try {
  browser = await chromium.launch({
    executablePath: facts.chromium ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--use-gl=swiftshader', '--enable-unsafe-swiftshader'],
  });
  await checks[check](browser);
  log(`ok in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (e) {
  failed = true;
  console.error(`[${check}] FAILED: ${e.stack ?? e}`);
  // The state of the last page, to see what went wrong.
  for (const context of browser?.contexts() ?? []) {
    for (const [i, page] of context.pages().entries()) {
      await page.screenshot({ path: artifact(`${check}-failure-${i}.png`) }).catch(() => {});
    }
  }
} finally {
  await browser?.close().catch(() => {});
  clearTimeout(watchdog);
}
process.exit(failed ? 1 : 0);
