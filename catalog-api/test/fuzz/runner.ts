// The fuzzing loop: operations in turn, each with its own numbered sequence of requests (a valid
// one every fourth, mutations of each class in rotation in between), every random choice drawn
// from a fast-check generator seeded by (seed, operation, number). The same seed therefore sends
// the same requests to an operation whether the run covers every operation or that one alone.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { checkAnswer, failureKinds, refused, type Answer, type FailureKind, type Finding } from './checks.js';
import { FuzzWorld } from './credentials.js';
import { documentedResponse, loadModel, type FuzzOperation, type SpecModel } from './model.js';
import { mutate, mutationClasses, pick, type Generator, type MutationClass } from './mutations.js';
import { bodyOf, emptyDraft, pathOf, type Draft, type FormValue } from './request.js';
import { deref, schemaArbitrary, type Schema } from './schema-arbitrary.js';
import { allowedWrites, storeJournal, type StoreJournal } from './store-journal.js';
import { send, closeConnections } from './transport.js';
import { judge, type Verdict } from './validity.js';

export interface FuzzOptions {
  seed: number;
  /** Number of requests to send. */
  budget: number;
  /** Only these operations (by operationId). */
  operations?: string[];
  /** Progress lines (stderr by default). */
  log?: (line: string) => void;
}

export type RequestClass = 'valid' | MutationClass;

export interface Example {
  /** The request's number in its operation's sequence. */
  index: number;
  note: string;
  verdict: string;
  request: string;
  status: number;
  answer: string;
  detail: string;
  reproduce: string;
}

export interface FailureGroup {
  kind: FailureKind;
  operationId: string;
  requestClass: RequestClass;
  status: number;
  count: number;
  examples: Example[];
}

export interface OperationStats {
  requests: number;
  byClass: Partial<Record<RequestClass, number>>;
  byStatus: Record<string, number>;
  /** Statuses of the valid requests alone: whether they reach the handler's success path. */
  validByStatus: Record<string, number>;
  /** The first valid request the server refused (a semantic refusal, or a generator's blind spot). */
  validRefused?: string;
  /** Mutated requests the oracle judged invalid, and how many of them were refused. */
  invalid: number;
  invalidRefused: number;
}

export interface FuzzReport {
  seed: number;
  budget: number;
  durationMs: number;
  /** Where the time went: answering requests, and reading the store's journal around them. */
  timing: { setupMs: number; requestMs: number; journalMs: number };
  /** Rows per table at the end. */
  finalRows: Record<string, number>;
  requests: number;
  byStatusClass: Record<string, number>;
  failureCounts: Record<FailureKind, number>;
  /** 5xx answers the operation documents (not failures), by `operationId status`. */
  documentedServerErrors: Record<string, number>;
  operations: Record<string, OperationStats>;
  failures: FailureGroup[];
}

/** A 32-bit seed for one request of one operation. */
export function requestSeed(seed: number, operationId: string, index: number): number {
  return createHash('sha256').update(`${seed}:${operationId}:${index}`).digest().readInt32LE(0);
}

/** Which class the request number `index` of an operation is: valid every fourth, else a mutation class in rotation. */
export function classOf(operationId: string, index: number): RequestClass {
  if (index % 4 === 0) return 'valid';
  const offset = createHash('sha256').update(operationId).digest().readUInt8(0);
  const mutationNumber = index - Math.floor(index / 4) - 1;
  return mutationClasses[(mutationNumber + offset) % mutationClasses.length]!;
}

class Generation {
  private arbitraries = new Map<string, fc.Arbitrary<unknown>>();

  constructor(private readonly model: SpecModel) {}

  value(g: Generator, schema: Schema): unknown {
    const key = JSON.stringify(schema);
    let arbitrary = this.arbitraries.get(key);
    if (!arbitrary) {
      arbitrary = schemaArbitrary(schema, { resolve: this.model.resolve, accepts: (s, v) => this.model.compile(s)(v) });
      this.arbitraries.set(key, arbitrary);
    }
    return g(() => arbitrary!);
  }
}

const asText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** A valid request of the operation, as far as generation and the world's values manage. */
async function validDraft(model: SpecModel, generation: Generation, world: FuzzWorld, operation: FuzzOperation, g: Generator, realIds: boolean, valid: boolean): Promise<Draft> {
  const seed = await world.seed(operation, g, valid);
  const draft = emptyDraft();
  for (const parameter of operation.parameters) {
    const seeded = parameter.in === 'path' ? seed.path?.[parameter.name] : parameter.in === 'query' ? seed.query?.[parameter.name] : seed.headers?.[parameter.name.toLowerCase()];
    if (parameter.in === 'path') {
      draft.pathParams[parameter.name] = seeded !== undefined && realIds ? String(seeded) : asText(generation.value(g, parameter.schema));
      continue;
    }
    if (seeded === undefined && !parameter.required && g(fc.nat, { max: 9 }) >= 3) continue;
    const plausible = seeded === undefined && !parameter.required ? world.plausible(operation, parameter.name) : undefined;
    if (plausible === null) continue;
    const value = seeded ?? (plausible ? pick(g, plausible) : generation.value(g, parameter.schema));
    if (parameter.in === 'query') {
      for (const item of parameter.exploded && Array.isArray(value) ? value : [value]) draft.query.push([parameter.name, asText(item)]);
    } else {
      draft.headers[parameter.name.toLowerCase()] = asText(value);
    }
  }
  for (const [name, value] of Object.entries(seed.headers ?? {})) draft.headers[name.toLowerCase()] ??= value;
  // Query values the world gives for parameters that are not declared (none today) are left out.

  if (operation.body && (operation.body.required || seed.body || g(fc.nat, { max: 4 }) > 0)) {
    let value: unknown;
    if (seed.body && g(fc.nat, { max: 9 }) < 7) value = structuredClone(seed.body);
    else if (operation.body.examples.length && g(fc.boolean)) value = structuredClone(pick(g, operation.body.examples));
    else value = generation.value(g, operation.body.schema);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      // Generated optional members the server cannot act on are left out or given plausible values.
      const required: string[] = deref(operation.body.schema, model.resolve).required ?? [];
      const members = value as Record<string, unknown>;
      for (const name of Object.keys(members)) {
        if (required.includes(name) || seed.body?.[name] !== undefined) continue;
        const plausible = world.plausible(operation, name);
        if (plausible === null) delete members[name];
        else if (plausible) members[name] = pick(g, plausible);
      }
      if (seed.body) value = { ...members, ...structuredClone(seed.body) };
    }
    if (operation.body.mediaType === 'application/x-www-form-urlencoded') {
      value = Object.fromEntries(Object.entries((value ?? {}) as Record<string, unknown>).map(([name, inner]) => [name, asText(inner)])) as FormValue;
    }
    draft.body = { value };
  }
  return draft;
}

const redactions = [/(authorization: \S+ )\S+/gi, /(cookie: [^=]+=)[^;\s]+/gi, /(dpop: )\S+/gi];

function describeRequest(method: string, path: string, headers: Record<string, string | string[]>, body: Buffer | undefined): string {
  let head = `${method} ${path}`;
  for (const [name, value] of Object.entries(headers)) for (const line of [value].flat()) head += `\n${name}: ${line}`;
  for (const pattern of redactions) head = head.replace(pattern, '$1…');
  const text = body ? body.toString('utf8') : '';
  return `${head}${text ? `\n\n${excerpt(text, 400)}` : ''}`;
}

function excerpt(text: string, max: number): string {
  const printable = JSON.stringify(text).slice(1, -1);
  return printable.length > max ? `${printable.slice(0, max)}… (${text.length} chars)` : printable;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  const model = loadModel();
  const generation = new Generation(model);
  const selected = options.operations?.length ? model.operations.filter((operation) => options.operations!.includes(operation.id)) : model.operations;
  const unknown = (options.operations ?? []).filter((id) => !model.byId.has(id));
  if (unknown.length) throw new Error(`unknown operations: ${unknown.join(', ')}`);

  const world = new FuzzWorld();
  let journal: StoreJournal;
  try {
    await world.setup(log);
    journal = await storeJournal(world.server.app.db);
  } catch (error) {
    await world.close();
    throw error;
  }
  const limits = { bodyLimit: world.server.config.bodyLimit, jsonMaxDepth: world.server.config.jsonMaxDepth };
  log(`fuzz: seed ${options.seed}, budget ${options.budget}, ${selected.length} operations, set up in ${Date.now() - started} ms`);

  const report: FuzzReport = {
    seed: options.seed,
    budget: options.budget,
    durationMs: 0,
    timing: { setupMs: Date.now() - started, requestMs: 0, journalMs: 0 },
    finalRows: {},
    requests: 0,
    byStatusClass: {},
    failureCounts: Object.fromEntries(failureKinds.map((kind) => [kind, 0])) as Record<FailureKind, number>,
    documentedServerErrors: {},
    operations: {},
    failures: [],
  };
  const groups = new Map<string, FailureGroup>();
  const record = (finding: Finding, operation: FuzzOperation, requestClass: RequestClass, status: number, example: Omit<Example, 'detail'>) => {
    report.failureCounts[finding.kind] += 1;
    const key = `${finding.kind}|${operation.id}|${requestClass}|${status}`;
    let group = groups.get(key);
    if (!group) {
      group = { kind: finding.kind, operationId: operation.id, requestClass, status, count: 0, examples: [] };
      groups.set(key, group);
      report.failures.push(group);
    }
    group.count += 1;
    if (group.examples.length < 3) group.examples.push({ ...example, detail: finding.detail });
  };

  try {
    for (let i = 0; i < options.budget; i++) {
      const operation = selected[i % selected.length]!;
      const index = Math.floor(i / selected.length);
      const requestSeedValue = requestSeed(options.seed, operation.id, index);
      const g = fc.sample(fc.gen(), { seed: requestSeedValue, numRuns: 1 })[0]!;
      const scheduled = classOf(operation.id, index);
      const context = { g, model, operation, bodyLimit: model.bodyLimitOf(operation, limits.bodyLimit), jsonMaxDepth: limits.jsonMaxDepth };

      // The valid base: generation is retried a few times when the oracle finds a draw invalid.
      const valid = scheduled === 'valid';
      let draft = await validDraft(model, generation, world, operation, g, !valid || g(fc.nat, { max: 9 }) > 0, valid);
      for (let attempt = 0; attempt < 4 && judge(model, operation, draft, bodyOf(operation, draft).bytes?.length ?? 0, limits).valid !== true; attempt++) {
        draft = await validDraft(model, generation, world, operation, g, true, valid);
      }
      let requestClass: RequestClass = 'valid';
      let note = 'valid request';
      if (scheduled !== 'valid') {
        const start = mutationClasses.indexOf(scheduled);
        for (let step = 0; step < mutationClasses.length; step++) {
          const candidate = mutationClasses[(start + step) % mutationClasses.length]!;
          const mutated = mutate(candidate, context, draft);
          if (mutated) {
            draft = mutated.draft;
            requestClass = candidate;
            note = mutated.note;
            break;
          }
        }
      }

      const path = pathOf(operation, draft);
      const body = bodyOf(operation, draft);
      const verdict: Verdict = judge(model, operation, draft, body.bytes?.length ?? 0, limits);
      const auth = await world.authenticate(operation, operation.method, path, g);
      const headers: Record<string, string | string[]> = { ...draft.headers, ...auth.headers };
      if (body.contentType.length) headers['content-type'] = body.contentType.length === 1 ? body.contentType[0]! : body.contentType;
      // The journal from here on holds this request's writes only (the world's own are before).
      let clock = performance.now();
      await journal.reset();
      report.timing.journalMs += performance.now() - clock;
      clock = performance.now();

      let answer: Answer;
      try {
        answer = await send(world.server.url, { method: operation.method, path, headers, ...(body.bytes ? { body: body.bytes } : {}) });
      } catch (error) {
        answer = { status: 0, headers: {}, body: Buffer.from(String((error as Error).message)) };
      }
      report.timing.requestMs += performance.now() - clock;

      report.requests += 1;
      const statusClass = answer.status === 0 ? 'transport' : `${String(answer.status)[0]}xx`;
      report.byStatusClass[statusClass] = (report.byStatusClass[statusClass] ?? 0) + 1;
      const stats = (report.operations[operation.id] ??= { requests: 0, byClass: {}, byStatus: {}, validByStatus: {}, invalid: 0, invalidRefused: 0 });
      stats.requests += 1;
      stats.byClass[requestClass] = (stats.byClass[requestClass] ?? 0) + 1;
      stats.byStatus[answer.status] = (stats.byStatus[answer.status] ?? 0) + 1;
      if (requestClass === 'valid') stats.validByStatus[answer.status] = (stats.validByStatus[answer.status] ?? 0) + 1;
      if (requestClass === 'valid' && answer.status >= 400 && !stats.validRefused) {
        stats.validRefused = `${operation.method} ${path.length > 300 ? `${path.slice(0, 300)}…` : path} ${body.bytes ? excerpt(body.bytes.toString('utf8'), 200) : ''} → ${answer.status} ${excerpt(answer.body.toString('utf8'), 300)}`;
      }
      if (answer.status >= 500 && documentedResponse(operation, answer.status)) {
        const key = `${operation.id} ${answer.status}`;
        report.documentedServerErrors[key] = (report.documentedServerErrors[key] ?? 0) + 1;
      }
      if (verdict.valid === false) {
        stats.invalid += 1;
        if (refused(operation, answer)) stats.invalidRefused += 1;
      }

      const findings: Finding[] =
        answer.status === 0 ? [{ kind: 'transport', detail: answer.body.toString() }] : checkAnswer(model, operation, verdict, answer);
      if (answer.status !== 0 && refused(operation, answer)) {
        clock = performance.now();
        const changed = await journal.changes(allowedWrites(operation.id, answer.status));
        report.timing.journalMs += performance.now() - clock;
        if (changed.length) findings.push({ kind: 'write-from-refused', detail: `changed: ${changed.join(', ')}` });
      }
      if (findings.length) {
        const example = {
          index,
          note,
          verdict: verdict.valid === true ? 'valid' : `${verdict.valid === false ? 'invalid' : 'not judged'}: ${verdict.reason}`,
          request: describeRequest(operation.method, path, headers, body.bytes),
          status: answer.status,
          answer: [answer.headers.location ? `Location: ${String(answer.headers.location).slice(0, 200)}` : '', answer.headers['content-type'] ?? '', excerpt(answer.body.toString('utf8'), 300)]
            .filter(Boolean)
            .join(' '),
          reproduce: `npm run fuzz -- --seed ${options.seed} --operation ${operation.id} --budget ${index + 1}`,
        };
        for (const finding of findings) record(finding, operation, requestClass, answer.status, example);
      }
      await world.after(operation, answer.status, auth.credential, verdict.valid === true);

      if ((i + 1) % 500 === 0) {
        const failures = Object.values(report.failureCounts).reduce((sum, n) => sum + n, 0);
        log(
          `fuzz: ${i + 1}/${options.budget} requests, ${failures} failures, ${Math.round((Date.now() - started) / 1000)} s (answers ${Math.round(report.timing.requestMs / 1000)} s, journal ${Math.round(report.timing.journalMs / 1000)} s)`,
        );
      }
    }
    report.finalRows = await journal.rowCounts();
  } finally {
    closeConnections();
    await world.close();
  }
  report.durationMs = Date.now() - started;
  report.failures.sort((a, b) => a.kind.localeCompare(b.kind) || a.operationId.localeCompare(b.operationId) || a.requestClass.localeCompare(b.requestClass) || a.status - b.status);
  return report;
}

/** The report as text: totals, then each group of failures with its first example. */
export function formatReport(report: FuzzReport): string {
  const lines: string[] = [];
  const failures = Object.values(report.failureCounts).reduce((sum, n) => sum + n, 0);
  const seconds = (ms: number) => Math.round(ms / 1000);
  lines.push(
    `fuzz: seed ${report.seed}, ${report.requests} requests in ${seconds(report.durationMs)} s (set-up ${seconds(report.timing.setupMs)} s, answers ${seconds(report.timing.requestMs)} s, store journal ${seconds(report.timing.journalMs)} s)`,
  );
  lines.push(`status classes: ${Object.entries(report.byStatusClass).sort().map(([name, n]) => `${name} ${n}`).join(', ')}`);
  const invalid = Object.values(report.operations).reduce((sum, stats) => sum + stats.invalid, 0);
  const invalidRefused = Object.values(report.operations).reduce((sum, stats) => sum + stats.invalidRefused, 0);
  lines.push(`invalid requests (per the oracle): ${invalid}, refused: ${invalidRefused}`);
  const documented = Object.entries(report.documentedServerErrors).map(([key, n]) => `${key} ×${n}`);
  lines.push(`5xx answers: ${report.byStatusClass['5xx'] ?? 0}${documented.length ? `, of which documented by their operation (not failures): ${documented.join(', ')}` : ''}`);
  lines.push(`failures: ${failures} — ${Object.entries(report.failureCounts).map(([kind, n]) => `${kind} ${n}`).join(', ')}`);
  for (const group of report.failures) {
    const [example] = group.examples;
    lines.push('');
    lines.push(`[${group.kind}] ${group.operationId} / ${group.requestClass} → ${group.status} (${group.count}×)`);
    if (!example) continue;
    lines.push(`  ${example.detail}`);
    lines.push(`  mutation: ${example.note}; oracle: ${example.verdict}`);
    lines.push(...example.request.split('\n').map((line) => `  > ${line}`));
    lines.push(`  < ${example.status} ${example.answer}`);
    lines.push(`  reproduce: ${example.reproduce}`);
  }
  return lines.join('\n');
}
