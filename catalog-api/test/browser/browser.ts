// Browser tests of the platform's pages: one Debian Chromium per test file driven by
// playwright-core, pages opened with JavaScript off (as the pages must work), and the checks every
// page passes: axe-core's WCAG 2.1 AA rules, no horizontal scroll at 360 px, a keyboard walk that
// starts at the skip link with a visible focus, a small weight; screenshots at both widths.
//
// Without a browser on the machine the files skip with a message; with REQUIRE_BROWSER=1 (CI) they
// fail instead. axe and the measurements run in a "twin" of the page (see chromium.mjs): a second
// context showing the same DOM with JavaScript on and the CSP bypassed, which the pages need not
// allow. The keyboard walk runs in the page itself, with JavaScript off.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { AxeResults, Result, RunOptions } from 'axe-core';
import type { Browser, Locator, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { CHROMIUM_SEARCH, contextOptions, DEVICES, findChromium, launchChromium, screenshotPage, withTwin, type Device } from './chromium.mjs';

export { DEVICES, type Device } from './chromium.mjs';

/** The machine's Chromium, or null. */
export const chromiumPath = findChromium();
/** Set by CI: a missing browser fails the browser tests instead of skipping them. */
export const browserRequired = process.env.REQUIRE_BROWSER === '1';
const missing = `no Chromium found (looked at ${CHROMIUM_SEARCH}); install Debian's package (apt-get install chromium) or set CHROMIUM_PATH`;

/**
 * A describe block of browser tests: skipped, with a message saying why, when the machine has no
 * Chromium, unless REQUIRE_BROWSER=1 (then useBrowser fails the block).
 */
export function describeInBrowser(name: string, tests: () => void): void {
  const skip = !chromiumPath && !browserRequired;
  if (skip) console.warn(`[browser tests] "${name}" skipped: ${missing}. CI sets REQUIRE_BROWSER=1, where this fails.`);
  describe.skipIf(skip)(name, tests);
}

/** Where test runs write screenshots (gitignored); `npm run screenshots` writes docs/screenshots. */
export const screenshotDir = process.env.SCREENSHOT_DIR ?? fileURLToPath(new URL('./.screenshots/', import.meta.url));

export interface PageOptions {
  device?: Device;
  /** Off by default: the pages must work without it. */
  javaScriptEnabled?: boolean;
  /** So that `page.goto('/patient/apps')` works. */
  baseURL?: string;
  locale?: string;
}

export interface BrowserHandle {
  browser(): Browser;
  /** A page in a new context of its own (its own cookies) on a device, JavaScript off by default. */
  newPage(options?: PageOptions): Promise<Page>;
}

const devices = new WeakMap<Page, Device>();
const traffic = new WeakMap<Page, Array<Promise<Transfer | null>>>();

interface Transfer {
  url: string;
  status: number;
  /** The body as the page got it (decompressed). */
  bytes: number;
  /** The body as it travelled (compressed when the server compressed it). */
  encodedBytes: number;
  type: string;
}

/** One Chromium for the test file (launched before its tests, closed after). */
export function useBrowser(): BrowserHandle {
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (!chromiumPath) throw new Error(`${browserRequired ? 'REQUIRE_BROWSER=1 and ' : 'outside describeInBrowser(), '}${missing}`);
    browser = await launchChromium(chromiumPath);
  });
  afterAll(async () => {
    await browser?.close();
  });
  const current = () => {
    if (!browser) throw new Error('the browser is not started (useBrowser() runs in beforeAll)');
    return browser;
  };
  return {
    browser: current,
    async newPage(options: PageOptions = {}) {
      const device = options.device ?? 'desktop';
      const context = await current().newContext(
        contextOptions(device, {
          javaScriptEnabled: options.javaScriptEnabled ?? false,
          ...(options.baseURL ? { baseURL: options.baseURL } : {}),
          ...(options.locale ? { locale: options.locale } : {}),
        }),
      );
      // Fail within the test's own timeout, with Playwright's message rather than vitest's.
      context.setDefaultTimeout(10_000);
      const page = await context.newPage();
      devices.set(page, device);
      watchTraffic(page);
      return page;
    },
  };
}

function deviceOf(page: Page): Device {
  const known = devices.get(page);
  if (known) return known;
  return (page.viewportSize()?.width ?? 1280) <= DEVICES.phone.viewport.width ? 'phone' : 'desktop';
}

/** Keeps what the page's last document and its subresources weighed (redirects excluded). */
function watchTraffic(page: Page): void {
  traffic.set(page, []);
  page.on('response', (response: Response) => {
    const request = response.request();
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) traffic.set(page, []);
    const redirect = response.status() >= 300 && response.status() < 400;
    const measured = redirect
      ? Promise.resolve(null)
      : Promise.all([response.body(), request.sizes()]).then(
          ([body, sizes]) => ({ url: response.url(), status: response.status(), bytes: body.length, encodedBytes: sizes.responseBodySize, type: request.resourceType() }),
          () => null,
        );
    traffic.get(page)!.push(measured);
  });
}

/** The State design system's fonts and icons: the same files on every page, cached for a year. */
const designAsset = (transfer: Transfer) => new URL(transfer.url).pathname.startsWith('/assets/dsfr/');

/**
 * What the page now shown weighed. The page's own (`requests`, `bytes`: everything since its
 * document but the design system's fonts and icons, as it travelled; `documentBytes`: the
 * document, decompressed), and the design system's files it used (`fonts`, `icons`: how many,
 * `designBytes`: their weight), which a browser downloads once for every page of the platform.
 */
export async function pageWeight(page: Page): Promise<{ requests: number; bytes: number; documentBytes: number; fonts: number; icons: number; designBytes: number; transfers: Transfer[] }> {
  const transfers = (await Promise.all(traffic.get(page) ?? [])).filter((transfer): transfer is Transfer => transfer !== null);
  const own = transfers.filter((transfer) => !designAsset(transfer));
  const design = transfers.filter(designAsset);
  return {
    requests: own.length,
    bytes: own.reduce((sum, transfer) => sum + transfer.encodedBytes, 0),
    documentBytes: transfers.find((transfer) => transfer.type === 'document')?.bytes ?? 0,
    fonts: design.filter((transfer) => transfer.type === 'font').length,
    icons: design.filter((transfer) => transfer.type !== 'font').length,
    designBytes: design.reduce((sum, transfer) => sum + transfer.encodedBytes, 0),
    transfers,
  };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

function describeViolation(violation: Result): string {
  const nodes = violation.nodes
    .slice(0, 5)
    .map((node) => `    at ${node.target.join(' ')}${node.failureSummary ? `\n      ${node.failureSummary.replace(/\n\s*/g, ' / ')}` : ''}`)
    .join('\n');
  const more = violation.nodes.length > 5 ? `\n    … and ${violation.nodes.length - 5} more` : '';
  return `- ${violation.id} (${violation.impact ?? 'no impact given'}): ${violation.help}\n    ${violation.helpUrl}\n${nodes}${more}`;
}

/**
 * Runs axe-core (WCAG 2.0/2.1 A and AA rules) on what the page shows, at the page's device, and
 * fails listing each violation with its nodes. `options` may narrow what is checked (`exclude`
 * takes CSS selectors); turning rules off needs a reason in the test.
 */
export async function checkAccessibility(page: Page, options: { exclude?: string[] } = {}): Promise<AxeResults> {
  const device = deviceOf(page);
  const runOptions: RunOptions = { runOnly: { type: 'tag', values: WCAG_TAGS }, resultTypes: ['violations'] };
  const results = await withTwin(page, device, { javaScriptEnabled: true, bypassCSP: true, initScript: axeSource }, (twin) =>
    twin.evaluate(
      async ({ runOptions, exclude }) => {
        const axe = (window as unknown as { axe: typeof import('axe-core') }).axe;
        return axe.run(exclude.length ? { exclude: exclude.map((selector) => [selector]) } : document, runOptions);
      },
      { runOptions, exclude: options.exclude ?? [] },
    ),
  );
  if (results.violations.length) {
    throw new Error(`axe-core found ${results.violations.length} WCAG 2.1 AA violation(s) on ${page.url()} (${device}):\n${results.violations.map(describeViolation).join('\n')}`);
  }
  return results;
}

/** Fails when the page scrolls sideways at its device's width, naming the elements that stick out. */
export async function checkNoHorizontalScroll(page: Page): Promise<void> {
  const device = deviceOf(page);
  const width = DEVICES[device].viewport.width;
  const measured = await withTwin(page, device, { javaScriptEnabled: true }, (twin) =>
    twin.evaluate((width) => {
      const wide = [...document.querySelectorAll('body *')]
        .filter((element) => element.getBoundingClientRect().right > width + 0.5)
        .slice(0, 5)
        .map((element) => `<${element.tagName.toLowerCase()}${element.id ? ` id="${element.id}"` : ''}${element.className ? ` class="${String(element.className)}"` : ''}> right edge at ${Math.round(element.getBoundingClientRect().right)} px`);
      return { scrollWidth: document.documentElement.scrollWidth, wide };
    }, width),
  );
  if (measured.scrollWidth > width) {
    throw new Error(`${page.url()} is ${measured.scrollWidth} px wide at ${width} px (${device}): it scrolls sideways.\n${measured.wide.join('\n')}`);
  }
}

export interface FocusStop {
  tag: string;
  /** aria-label, text or value, shortened. */
  name: string;
  href: string | null;
  inMain: boolean;
  /** Where it is in the document (for telling stops apart). */
  path: string;
  visible: boolean;
  /** An outline or a box shadow shows where the focus is. */
  indicator: boolean;
  tabIndex: number;
}

function focusedElement(page: Page): Promise<FocusStop | null> {
  return page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    if (!element || element === document.body || element === document.documentElement) return null;
    const rect = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    const path: string[] = [];
    for (let node: Element | null = element; node && node !== document.documentElement; node = node.parentElement) {
      path.unshift(`${node.tagName.toLowerCase()}:nth-child(${[...(node.parentElement?.children ?? [])].indexOf(node) + 1})`);
    }
    const name = element.getAttribute('aria-label') ?? (element.textContent?.trim() || (element as HTMLInputElement).value || element.getAttribute('name') || '');
    return {
      tag: element.tagName.toLowerCase(),
      name: name.replace(/\s+/g, ' ').slice(0, 80),
      href: element.getAttribute('href'),
      inMain: Boolean(element.closest('main')),
      path: path.join(' > '),
      visible: rect.width > 0 && rect.height > 0 && rect.bottom > 0 && rect.right > 0 && rect.top < innerHeight && rect.left < innerWidth,
      indicator: (style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none',
      tabIndex: element.tabIndex,
    };
  });
}

/**
 * Walks the page with the Tab key alone, from a page just loaded: the first stop is the skip
 * link to <main>; every stop is on screen with a visible focus indicator; no positive tabindex;
 * the walk comes back round (no trap). Then Enter on the skip link puts the focus in <main>.
 * Returns the stops in order, for tests to check what they expect to reach.
 */
export async function checkKeyboard(page: Page, options: { maxStops?: number } = {}): Promise<FocusStop[]> {
  const maxStops = options.maxStops ?? 100;
  const where = `${page.url()} (${deviceOf(page)})`;
  const already = await focusedElement(page);
  if (already) throw new Error(`checkKeyboard needs a page just loaded, with nothing focused; <${already.tag}> "${already.name}" is (autofocus?) on ${where}`);
  const stops: FocusStop[] = [];
  for (;;) {
    await page.keyboard.press('Tab');
    const stop = await focusedElement(page);
    if (!stop || stop.path === stops[0]?.path) break;
    stops.push(stop);
    if (stops.length > maxStops) throw new Error(`more than ${maxStops} Tab stops on ${where}: a keyboard trap, or raise maxStops`);
  }
  const list = () => stops.map((stop, i) => `${i + 1}. <${stop.tag}> ${stop.name}`).join('\n');
  const first = stops[0];
  const mainId = await page.evaluate(() => document.querySelector('main')?.id ?? '');
  if (!first || first.tag !== 'a' || !mainId || first.href !== `#${mainId}`) {
    throw new Error(`the first Tab stop on ${where} is not a skip link to <main id="…">; the stops are:\n${list() || '(none)'}`);
  }
  const problems = stops.flatMap((stop, i) => [
    ...(stop.visible ? [] : [`stop ${i + 1} <${stop.tag}> "${stop.name}" is not on screen when focused`]),
    ...(stop.indicator ? [] : [`stop ${i + 1} <${stop.tag}> "${stop.name}" shows no focus indicator (outline or box shadow)`]),
    ...(stop.tabIndex > 0 ? [`stop ${i + 1} <${stop.tag}> "${stop.name}" has a positive tabindex`] : []),
  ]);
  if (problems.length) throw new Error(`keyboard walk of ${where}:\n${problems.join('\n')}\nstops:\n${list()}`);

  await page.locator(`a[href="#${mainId}"]`).first().focus();
  await page.keyboard.press('Enter');
  const inMain = await page.evaluate((id) => {
    const main = document.getElementById(id);
    return Boolean(main && document.activeElement && main.contains(document.activeElement));
  }, mainId);
  if (!inMain) throw new Error(`Enter on the skip link of ${where} does not move the focus into <main>`);
  return stops;
}

/** Full-page screenshots of what the page shows, at desktop and phone widths, into `dir` (screenshotDir). */
export function screenshot(page: Page, name: string, options: { dir?: string; devices?: Device[] } = {}): Promise<string[]> {
  return screenshotPage(page, name, { dir: options.dir ?? screenshotDir, ...(options.devices ? { devices: options.devices } : {}) });
}

/** Every check of a page: axe, no sideways scroll, the keyboard walk; a screenshot when named. */
export async function checkPage(page: Page, options: { screenshot?: string } = {}): Promise<{ stops: FocusStop[] }> {
  await checkAccessibility(page);
  await checkNoHorizontalScroll(page);
  const stops = await checkKeyboard(page);
  if (options.screenshot) await screenshot(page, options.screenshot);
  return { stops };
}

/**
 * The design system's share of any page: the State's typeface (Marianne, regular, medium and bold
 * at most, woff2) and a few icons, the same files on every page, downloaded once and then cached
 * for a year.
 */
export const DESIGN_BUDGET = { fonts: 3, icons: 4, bytes: 200_000 };

/** Checks the design system's share of a page against DESIGN_BUDGET. */
export function expectDesignWithinBudget(weight: Awaited<ReturnType<typeof pageWeight>>): void {
  const detail = JSON.stringify(weight.transfers.filter((transfer) => transfer.url.includes('/assets/dsfr/')));
  expect(weight.fonts, detail).toBeLessThanOrEqual(DESIGN_BUDGET.fonts);
  expect(weight.icons, detail).toBeLessThanOrEqual(DESIGN_BUDGET.icons);
  expect(weight.designBytes, detail).toBeLessThanOrEqual(DESIGN_BUDGET.bytes);
}

/**
 * Ticks or unticks a checkbox or a radio as a person does: by its label (the design system draws
 * the box in the label, over the input), then checks that it took.
 */
export async function setChoice(control: Locator, checked: boolean): Promise<void> {
  const id = await control.getAttribute('id');
  if (!id) throw new Error('a checkbox or radio without an id has no label to click');
  if ((await control.isChecked()) !== checked) await control.page().locator(`label[for="${id}"]`).click();
  expect(await control.isChecked()).toBe(checked);
}
