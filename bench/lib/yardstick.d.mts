// Types of lib/yardstick.mjs for the TypeScript test (bench/test).
export interface YardstickLine {
  mode: 'production' | 'sandbox';
  issuer: string;
  urls: { platform: string; limit: string };
  applicationNames: { platform: string; limit: string };
  params: Record<string, unknown> & { issuer: string; readId: string; fhirRefreshToken: string; refreshTokens: string[] };
}
export interface Yardstick {
  schema: string;
  lines: YardstickLine[];
  platformDb: { query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]> };
  close(): Promise<void>;
}
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}
export function startYardstick(options: { api: unknown; sandbox: unknown; databaseUrl: string; grants?: number; catalogApps?: number }): Promise<Yardstick>;
export function checkEqual(line: YardstickLine, name: string): Promise<{ status: number; sameBytes: boolean; bytes: number }>;
export function tokenAnswer(params: Record<string, unknown>, refreshToken?: string): Promise<Answer>;
export function countStatements(): Map<string, number>;
