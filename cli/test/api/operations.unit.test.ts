// The generated `mes api` commands against the spec they come from: every operation, every
// parameter, every body field is there, with flags that do not collide; and the committed files
// are what the generator writes today.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { operationFlags } from '../../src/api/help.js';
import type { Operation } from '../../src/api/operation.js';

const cliRoot = fileURLToPath(new URL('../..', import.meta.url));
const commandsDir = join(cliRoot, 'src/commands/api');
/** What each generated command carries, as `mes api --list` reads it. */
const operations: Operation[] = [];
for (const file of readdirSync(commandsDir).filter((name) => name !== 'index.ts').sort()) {
  const command = ((await import(join(commandsDir, file))) as { default: { operation: Operation } }).default;
  operations.push(command.operation);
}

type Node = Record<string, unknown>;
interface SpecOperation {
  operationId: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: Node[];
  requestBody?: Node;
  responses?: Record<string, Node>;
}

const spec = JSON.parse(readFileSync(join(cliRoot, '../openapi/dist/openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, unknown>>;
  security?: Record<string, string[]>[];
};
const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function resolve<T = Node>(value: unknown): T {
  let current = value as Node;
  while (typeof current?.$ref === 'string') {
    current = (current.$ref as string)
      .slice(2)
      .split('/')
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<Node>((node, key) => node[key] as Node, spec as unknown as Node);
  }
  return current as T;
}

const specOperations = Object.entries(spec.paths).flatMap(([path, item]) =>
  methods.filter((method) => item[method]).map((method) => ({ path, method, item, op: item[method] as SpecOperation })),
);

describe('the generated mes api commands', () => {
  it('has every operation of the spec once, sorted by operationId', () => {
    const ids = operations.map((operation) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(specOperations.map(({ op }) => op.operationId).sort());
  });

  it.each(specOperations.map((entry) => [entry.op.operationId, entry] as const))('%s round-trips the spec', (_, { path, method, item, op }) => {
    const generated = operations.find((operation) => operation.operationId === op.operationId)!;
    expect(generated).toMatchObject({ method: method.toUpperCase(), path, tag: op.tags?.[0] ?? '' });

    const schemes = [...new Set((op.security ?? spec.security ?? []).flatMap((requirement) => Object.keys(requirement)))];
    expect([...generated.security].sort()).toEqual(schemes.sort());
    if (schemes.length === 0) expect(generated.auth).toBe('none');

    // Every parameter, from the path item and the operation, in its place, required as in the spec.
    const parameters = new Map<string, Node>();
    for (const raw of [...((item.parameters as Node[] | undefined) ?? []), ...(op.parameters ?? [])]) {
      const parameter = resolve(raw);
      parameters.set(`${String(parameter.in)}:${String(parameter.name)}`, parameter);
    }
    expect(generated.parameters.map((parameter) => `${parameter.in}:${parameter.name}`).sort()).toEqual([...parameters.keys()].sort());
    for (const parameter of generated.parameters) {
      const source = parameters.get(`${parameter.in}:${parameter.name}`)!;
      expect(parameter.required, parameter.name).toBe(parameter.in === 'path' || source.required === true);
      expect(parameter.array, parameter.name).toBe(resolve<Node>(source.schema).type === 'array');
      const values = resolve<Node>(parameter.array ? resolve<Node>(source.schema).items : source.schema).enum as unknown[] | undefined;
      if (values) expect(parameter.enum, parameter.name).toEqual(values.map(String));
    }

    // The body: its media type, whether it is required, and every top-level property.
    if (!op.requestBody) {
      expect(generated.body).toBeNull();
    } else {
      const body = resolve(op.requestBody);
      const content = body.content as Record<string, { schema?: unknown }>;
      expect(Object.keys(content)).toContain(generated.body!.contentType);
      expect(generated.body!.required).toBe(body.required === true);
      const schema = resolve<Node>(content[generated.body!.contentType]!.schema);
      const properties = Object.keys((schema.properties as Node | undefined) ?? {});
      expect(generated.body!.fields.map((field) => field.name)).toEqual(expect.arrayContaining(properties));
      for (const name of (schema.required as string[] | undefined) ?? []) {
        expect(generated.body!.fields.find((field) => field.name === name)?.required, name).toBe(true);
      }
      if (/json/.test(generated.body!.contentType)) expect(generated.body!.kind).toBe('json');
      if (generated.body!.contentType === 'application/x-www-form-urlencoded') expect(generated.body!.kind).toBe('form');
    }

    const responseTypes = new Set(Object.values(op.responses ?? {}).flatMap((response) => Object.keys((resolve(response).content as Node | undefined) ?? {})));
    expect(new Set(generated.responseTypes)).toEqual(responseTypes);
  });

  it('gives every parameter its own flag, none of them a flag every command has', () => {
    for (const operation of operations) {
      const flags = operation.parameters.map((parameter) => parameter.flag);
      expect(new Set(flags).size, operation.operationId).toBe(flags.length);
      for (const flag of flags) {
        expect(flag).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
        expect(['json', 'api-url', 'body', 'field', 'timeout', 'help']).not.toContain(flag);
      }
      // oclif gets one flag per parameter, plus --body/--field for a body and --timeout.
      const built = Object.keys(operationFlags(operation));
      expect(built).toEqual(expect.arrayContaining([...flags, 'timeout', ...(operation.body ? ['body'] : [])]));
    }
  });

  it('names flags in kebab case: appId → --app-id, _count → --count, Idempotency-Key → --idempotency-key', () => {
    const flag = (operationId: string, name: string) =>
      operations.find((operation) => operation.operationId === operationId)!.parameters.find((parameter) => parameter.name === name)?.flag;
    expect(flag('getApp', 'appId')).toBe('app-id');
    expect(flag('searchObservation', '_count')).toBe('count');
    expect(flag('searchObservation', '_lastUpdated')).toBe('last-updated');
    expect(flag('createApp', 'Idempotency-Key')).toBe('idempotency-key');
    expect(flag('token', 'DPoP')).toBe('dpop');
    expect(flag('authorize', 'client_id')).toBe('client-id');
  });

  it('keeps FHIR and OAuth operations: form bodies, DPoP, the sandbox token', () => {
    const token = operations.find((operation) => operation.operationId === 'token')!;
    expect(token.body).toMatchObject({ contentType: 'application/x-www-form-urlencoded', kind: 'form', required: true });
    expect(token.body!.fields.find((field) => field.name === 'grant_type')).toMatchObject({ required: true });
    const read = operations.find((operation) => operation.operationId === 'readObservation')!;
    expect(read).toMatchObject({ auth: 'sandboxToken', responseTypes: expect.arrayContaining(['application/fhir+json']) });
    expect(operations.find((operation) => operation.operationId === 'getApp')!.auth).toBe('apiKey');
  });

  // A process of its own: a generous limit for a loaded machine, after which it is killed.
  it('is what the generator writes from the spec today (commands included)', { timeout: 150_000 }, async () => {
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((done) =>
      execFile(process.execPath, [join(cliRoot, 'scripts/generate-api.mjs'), '--check'], { timeout: 120_000, killSignal: 'SIGKILL' }, (error, _stdout, stderr) =>
        done({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stderr }),
      ),
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
