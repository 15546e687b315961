import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

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
    include: ['*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
