// Builds the published package: ESM and CommonJS bundles of src/index.ts (`@mes/sdk`), of
// src/publisher/index.ts (`@mes/sdk/publisher`) and of src/certification/index.ts
// (`@mes/sdk/certification`) and of src/webhooks/index.ts (`@mes/sdk/webhooks`), each written where tsc -b writes its declarations, with their type
// declarations. The code the client and the publisher's client share is split into a chunk both
// load, so there is one MesClient and one set of error classes, and `instanceof` holds across them. The spec's types are inlined into the .d.ts so consumers need no @mes/openapi.
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'publisher/index': 'src/publisher/index.ts', 'certification/index': 'src/certification/index.ts', 'webhooks/index': 'src/webhooks/index.ts' },
  format: ['esm', 'cjs'],
  // Browsers and Node alike: no Node built-ins are bundled or polyfilled.
  platform: 'neutral',
  target: 'es2022',
  outDir: 'dist',
  // composite (for tsc -b) makes the declaration build refuse files it did not list itself.
  dts: {
    compilerOptions: {
      composite: false,
      incremental: false,
      // Resolving the spec's types outside node_modules makes the declaration bundler inline them.
      paths: { '@mes/openapi': ['../openapi/dist/schema.d.ts'] },
    },
  },
  sourcemap: true,
  splitting: true,
  treeshake: true,
  // tsc -b writes the declaration files of the project reference into dist/ too; keep them.
  clean: false,
  external: ['oauth4webapi', 'ky'],
});
