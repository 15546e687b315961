// `npm run fuzz -- [--budget N] [--seed S] [--operation id[,id…]]`: the schema-driven fuzzer of
// catalog-api/test/fuzz/ for longer than the bounded run of `npm test`. It runs that test file
// through vitest (the fuzzer reuses the tests' helpers) and prints the report, also written to
// .tmp/fuzz/report.json and report.txt. Exits non-zero on any failure.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
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

// The fuzzer's progress lines (`fuzz: …`, on stderr) are shown as they come; vitest's own output
// only when the run stopped without a report (it then says why).
const child = spawn('npx', ['vitest', 'run', 'catalog-api/test/fuzz.integration.test.ts', '--reporter=dot'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, FUZZ_BUDGET: String(budget), FUZZ_SEED: String(seed), FUZZ_REPORT: report, ...(values.operation ? { FUZZ_OPERATION: values.operation } : {}) },
});
const output = [];
child.stdout.on('data', (chunk) => output.push(chunk));
createInterface({ input: child.stderr }).on('line', (line) => {
  if (line.startsWith('fuzz: ')) console.log(line);
  else output.push(Buffer.from(`${line}\n`));
});
const status = await new Promise((resolve) => child.on('close', resolve));
if (existsSync(text)) console.log(readFileSync(text, 'utf8'));
else console.log(Buffer.concat(output).toString());
process.exit(status ?? 1);
