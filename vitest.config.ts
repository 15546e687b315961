import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources of the workspace packages, not their last build.
    alias: {
      '@mes/catalog-api': here('./catalog-api/src/index.ts'),
      '@mes/sandbox': here('./sandbox/src/index.ts'),
      '@mes/sdk': here('./sdk/src/index.ts'),
    },
  },
  test: {
    include: ['*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
