// Types of chromium.mjs (plain JavaScript so that scripts/screenshots.mjs can use it too).
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';

export type Device = 'desktop' | 'phone';

export declare const CHROMIUM_ARGS: readonly string[];
export declare const CHROMIUM_SEARCH: string;
export declare const DEVICES: Record<Device, { viewport: { width: number; height: number }; deviceScaleFactor: number; isMobile: boolean; hasTouch: boolean }>;

export declare function findChromium(env?: NodeJS.ProcessEnv): string | null;
export declare function launchChromium(executablePath: string): Promise<Browser>;

export interface ContextChoices {
  javaScriptEnabled?: boolean;
  bypassCSP?: boolean;
  locale?: string;
  baseURL?: string;
}

export interface TwinChoices {
  javaScriptEnabled?: boolean;
  bypassCSP?: boolean;
  /** Source run before anything else in the twin (e.g. axe-core). */
  initScript?: string;
}

export declare function contextOptions(device: Device, options?: ContextChoices): BrowserContextOptions;
export declare function withTwin<T>(page: Page, device: Device, options: TwinChoices, use: (twin: Page) => Promise<T>): Promise<T>;
export declare function screenshotPage(page: Page, name: string, options: { dir: string; devices?: Device[]; scale?: 'css' | 'device' }): Promise<string[]>;
