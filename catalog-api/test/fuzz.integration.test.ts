// The schema-driven fuzzer (test/fuzz/), bounded: every operation of the spec, valid requests and
// each mutation class, against a real server. Any 5xx, accepted invalid request, write from a
// refused request, error outside its documented format, undocumented status or success body
// outside its schema fails the test. `npm run fuzz -- --budget N` runs the same test longer.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { expect, it } from 'vitest';
import { formatReport, runFuzz } from './fuzz/runner.js';

const budget = Number(process.env.FUZZ_BUDGET ?? 3000);
const seed = Number(process.env.FUZZ_SEED ?? 20_260_501);
const operations = process.env.FUZZ_OPERATION?.split(',').filter(Boolean);

it(
  `answers ${budget} generated and mutated requests without a 5xx, an accepted invalid request or a write from a refused one (seed ${seed})`,
  async () => {
    const report = await runFuzz({ seed, budget, ...(operations ? { operations } : {}) });
    const text = formatReport(report);
    if (process.env.FUZZ_REPORT) {
      mkdirSync(dirname(process.env.FUZZ_REPORT), { recursive: true });
      writeFileSync(process.env.FUZZ_REPORT, JSON.stringify(report, null, 2));
      writeFileSync(process.env.FUZZ_REPORT.replace(/\.json$/, '.txt'), `${text}\n`);
    }
    const failures = Object.values(report.failureCounts).reduce((sum, n) => sum + n, 0);
    expect(failures, text).toBe(0);
    // Not even a 5xx an operation documents: the world's identity provider answers (no 502), and
    // one is configured (no 503).
    expect(report.byStatusClass['5xx'] ?? 0, text).toBe(0);
  },
  // About 20 ms a request on a shared two-core machine, with room.
  Math.max(240_000, budget * 150),
);
