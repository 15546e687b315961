// The machine's Chromium (Debian's package, never a downloaded browser), the two screens pages are
// checked on, and "twins" of a page: plain JavaScript so that scripts/screenshots.mjs shares it.
//
// A twin is a page in another context of the same browser that shows exactly the DOM a page shows
// now (the document is served to it from a snapshot, its stylesheet and images from the server).
// The pages under test run with JavaScript disabled, as a patient without scripts sees them; axe
// and measurements need scripts, so they run in a twin, and screenshots at both widths are taken
// from twins too, which also works for pages reached by a form post.
import { createHash } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { chromium } from 'playwright-core';

/**
 * Chromium's own updater, background requests and GPU are of no use here and slow the start. No
 * host but localhost and 127.0.0.1 resolves: a page reaches nothing outside the machine, and the
 * other sites a test needs are played with page.route() (or a loopback server, see journey.ts).
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

/** Screens: a laptop, and the narrowest common phone (360 CSS px). */
export const DEVICES = {
  desktop: { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1, isMobile: false, hasTouch: false },
  phone: { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
};

const isExecutable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * Where Chromium is: $CHROMIUM_PATH when set (and then only there), else /usr/bin/chromium, else
 * `chromium` or `chromium-browser` on the PATH; null when there is none.
 */
export function findChromium(env = process.env) {
  if (env.CHROMIUM_PATH) return isExecutable(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : null;
  if (isExecutable('/usr/bin/chromium')) return '/usr/bin/chromium';
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of ['chromium', 'chromium-browser']) if (isExecutable(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** Where the browser tests look for Chromium, for messages. */
export const CHROMIUM_SEARCH = '$CHROMIUM_PATH, /usr/bin/chromium, chromium or chromium-browser on the PATH';

export function launchChromium(executablePath) {
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}

/** Options of a context on one of DEVICES, in French and Paris time; JavaScript is off unless asked for. */
export function contextOptions(device, options = {}) {
  const profile = DEVICES[device];
  if (!profile) throw new Error(`unknown device "${device}" (one of ${Object.keys(DEVICES).join(', ')})`);
  return {
    ...profile,
    javaScriptEnabled: options.javaScriptEnabled ?? false,
    bypassCSP: options.bypassCSP ?? false,
    locale: options.locale ?? 'fr-FR',
    timezoneId: 'Europe/Paris',
    colorScheme: 'light',
    reducedMotion: 'reduce',
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
  };
}

/** The twins of each browser: one long-lived page per device and set of options, reused in turn. */
const twins = new WeakMap();

function twinOf(browser, device, options) {
  const script = options.initScript ? createHash('sha256').update(options.initScript).digest('hex') : '';
  const key = JSON.stringify([device, options.javaScriptEnabled ?? false, options.bypassCSP ?? false, script]);
  let perBrowser = twins.get(browser);
  if (!perBrowser) twins.set(browser, (perBrowser = new Map()));
  let twin = perBrowser.get(key);
  if (!twin) {
    twin = (async () => {
      const context = await browser.newContext(contextOptions(device, options));
      if (options.initScript) await context.addInitScript({ content: options.initScript });
      const state = { context, page: await context.newPage(), snapshot: null, queue: Promise.resolve() };
      // The snapshot's URL answers once with the snapshot; everything else goes to the network.
      await context.route(
        (url) => state.snapshot !== null && url.href === state.snapshot.href,
        (route) => {
          const { html } = state.snapshot;
          state.snapshot = null;
          return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
        },
      );
      return state;
    })();
    perBrowser.set(key, twin);
  }
  return twin;
}

/**
 * Runs `use(twinPage)` on a twin of `page` on `device`: a page of another context (with the
 * page's cookies) showing the page's current DOM at the page's URL. `javaScriptEnabled`,
 * `bypassCSP` and `initScript` (run before anything on the page) are for axe. Twins are reused,
 * one use at a time: `use` must not keep the twin page.
 */
export async function withTwin(page, device, options, use) {
  const browser = page.context().browser();
  if (!browser) throw new Error('the page has no browser');
  const html = await page.content();
  const cookies = await page.context().cookies();
  const url = new URL(page.url());
  url.hash = '';
  const twin = await twinOf(browser, device, options);
  const turn = twin.queue.then(async () => {
    await twin.context.clearCookies();
    if (cookies.length) await twin.context.addCookies(cookies);
    twin.snapshot = { href: url.href, html };
    try {
      await twin.page.goto(url.href, { waitUntil: 'load' });
    } finally {
      twin.snapshot = null;
    }
    return use(twin.page);
  });
  twin.queue = turn.catch(() => undefined);
  return turn;
}

/**
 * Full-page PNGs of what `page` shows, as `<dir>/<name>-<device>.png` for each device (desktop and
 * phone by default), with JavaScript off as the page was; the files written. One image pixel per
 * CSS pixel (the phone renders at twice that, then is scaled down), so the files stay small.
 */
export async function screenshotPage(page, name, { dir, devices = Object.keys(DEVICES), scale = 'css' }) {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`screenshot name "${name}" must be lower-case words joined by hyphens`);
  await mkdir(dir, { recursive: true });
  const files = [];
  for (const device of devices) {
    const path = join(dir, `${name}-${device}.png`);
    await withTwin(page, device, {}, (twin) => twin.screenshot({ path, fullPage: true, animations: 'disabled', caret: 'hide', scale }));
    files.push(path);
  }
  return files;
}
