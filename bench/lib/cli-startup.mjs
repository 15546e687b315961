// How long `mes --help` takes to start, print and exit, against a bare oclif CLI with one command
// (bench/lib/bare-oclif) measured in alternation on the same machine: the ratio is the number to
// follow (1 = mes starts as fast as oclif itself). Each run is a fresh `node` process, as a shell
// starts it; the medians of `runs` alternated runs are compared.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const benchLib = fileURLToPath(new URL('.', import.meta.url));

function timeOnce(entry, args) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    execFile(process.execPath, [entry, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' } }, (error, stdout) => {
      if (error) return reject(error);
      if (!stdout.includes('USAGE')) return reject(new Error(`${entry} --help printed no usage`));
      resolve(performance.now() - started);
    });
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value) => Math.round(value * 10) / 10;

export async function measureCliStartup(rootDir, { runs = 15 } = {}) {
  const mes = join(rootDir, 'cli', 'bin', 'run.js');
  const bare = join(benchLib, 'bare-oclif', 'bin', 'run.js');
  // One warm-up each: the file system cache, not the start-up, is what a first run measures.
  await timeOnce(mes, ['--help']);
  await timeOnce(bare, ['--help']);
  const times = { mes: [], bare: [], mesCommand: [] };
  for (let i = 0; i < runs; i += 1) {
    times.bare.push(await timeOnce(bare, ['--help']));
    times.mes.push(await timeOnce(mes, ['--help']));
    times.mesCommand.push(await timeOnce(mes, ['review', 'approve', '--help']));
  }
  return {
    description: `median of ${runs} alternated runs of a fresh process, wall time`,
    mesHelpMs: ms(median(times.mes)),
    mesCommandHelpMs: ms(median(times.mesCommand)),
    bareOclifHelpMs: ms(median(times.bare)),
    ratio: Math.round((median(times.mes) / median(times.bare)) * 100) / 100,
    commandRatio: Math.round((median(times.mesCommand) / median(times.bare)) * 100) / 100,
  };
}
