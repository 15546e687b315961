// Runtime entry of @mes/openapi: the path of the bundled spec. Types come from dist/schema.d.ts.
import { fileURLToPath } from 'node:url';

export const specPath = fileURLToPath(new URL('./dist/openapi.json', import.meta.url));
