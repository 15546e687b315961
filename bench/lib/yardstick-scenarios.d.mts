// Types of lib/yardstick-scenarios.mjs for the TypeScript test (bench/test).
export const searchPath: string;
export const yardstickNames: string[];
export function fhirAccessToken(params: Record<string, unknown>): Promise<string>;
export function fhirHeaders(params: Record<string, unknown>, accessToken: string, path: string): { authorization: string; dpop: string };
