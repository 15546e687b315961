export type * from './dist/schema.js';
/** Absolute path of the bundled spec, dist/openapi.json. */
export declare const specPath: string;
