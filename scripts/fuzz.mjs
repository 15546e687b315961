// `npm run fuzz -- [--budget N] [--seed S] [--operation id[,id…]]`: the schema-driven fuzzer of
// catalog-api/test/fuzz/ for longer than the bounded run of `npm test`. It runs that test file
// through vitest (the fuzzer reuses the tests' helpers) and prints the report, also written to
// .tmp/fuzz/report.json and report.txt. Exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    budget: { type: 'string', default: '5000' },
    seed: { type: 'string' },
    operation: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run fuzz -- [--budget N] [--seed S] [--operation operationId[,operationId…]]');
  process.exit(0);
}
const budget = Number(values.budget);
if (!Number.isInteger(budget) || budget < 1) throw new Error(`--budget must be a positive integer, got ${values.budget}`);
const seed = values.seed === undefined ? randomInt(2 ** 31) : Number(values.seed);
if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);

const report = `${root}.tmp/fuzz/report.json`;
const text = report.replace(/\.json$/, '.txt');
rmSync(report, { force: true });
rmSync(text, { force: true });
console.log(`fuzz: seed ${seed}, budget ${budget}${values.operation ? `, operations ${values.operation}` : ''}`);

const run = spawnSync('npx', ['vitest', 'run', 'catalog-api/test/fuzz.integration.test.ts', '--reporter=dot'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  maxBuffer: 256 * 1024 * 1024,
  env: { ...process.env, FUZZ_BUDGET: String(budget), FUZZ_SEED: String(seed), FUZZ_REPORT: report, ...(values.operation ? { FUZZ_OPERATION: values.operation } : {}) },
});
if (existsSync(text)) console.log(readFileSync(text, 'utf8'));
// Without a report the run stopped early: vitest's own output says why.
else console.log(run.stdout?.toString() ?? 'fuzz: no report');
process.exit(run.status ?? 1);
