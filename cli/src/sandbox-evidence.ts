// Signed sandbox evidence on the command line: `mes sandbox evidence` writes it, `--evidence` of
// `mes apps checks` and `mes apps submit` reads it back (the JWS alone, or the JSON the sandbox
// answered), for a platform that trusts the sandbox.
import { readFile } from 'node:fs/promises';
import { Flags } from '@oclif/core';
import { CodedError } from './base-command.js';
import { jwsInText } from './jws-text.js';
import { readStdinText } from './stdin.js';

export const evidenceFlag = Flags.string({
  summary: 'Signed evidence from the sandbox ("mes sandbox evidence <clientId> --output <file>"), instead of this platform\'s own sandbox traffic; "-" reads standard input.',
  helpValue: '<file|->',
  exclusive: ['sandbox-client'],
});

/** The JWS in a file (or standard input): the JWS itself, or `{ "jws": … }` as the sandbox answers it. */
export async function readEvidence(source: string): Promise<string> {
  let text: string;
  try {
    text = source === '-' ? await readStdinText() : await readFile(source, 'utf8');
  } catch (error) {
    throw new CodedError(`Cannot read ${source}: ${(error as Error).message}`, 'invalid_file');
  }
  const found = jwsInText(text);
  if ('jws' in found) return found.jws;
  throw new CodedError(`${source} holds no sandbox evidence: expected the JWS, or the JSON of "mes sandbox evidence --json".`, 'invalid_file');
}
