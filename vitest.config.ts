import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const cores = availableParallelism();

export default defineConfig({
  resolve: {
    // Tests run against the sources of the workspace packages, not their last build.
    alias: [
      { find: /^@mes\/catalog-api$/, replacement: here('./catalog-api/src/index.ts') },
      { find: /^@mes\/sandbox$/, replacement: here('./sandbox/src/index.ts') },
      { find: /^@mes\/sdk$/, replacement: here('./sdk/src/index.ts') },
      { find: /^@mes\/sdk\/certification$/, replacement: here('./sdk/src/certification/index.ts') },
      { find: /^@mes\/sdk\/publisher$/, replacement: here('./sdk/src/publisher/index.ts') },
    ],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two groups, one after the other. Most files wait more than they compute (servers starting,
    // the device flow's polling, retries, child processes), so they run one more than there are
    // cores. The browser files run one at a time: Chromium and its pages load the whole machine,
    // and their timings (a page check, a journey) should not depend on what runs beside them.
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['*/test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, '*/test/**/*.browser.test.ts'],
          maxWorkers: cores + 1,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['*/test/**/*.browser.test.ts'],
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
