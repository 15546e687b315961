import { writeFile } from 'node:fs/promises';
import { type components } from '@mes/sdk/publisher';
import { verifyDecisionLog } from '@mes/sdk/certification';
import { Flags } from '@oclif/core';
import { readJsonObject } from '../../app-fields.js';
import { CodedError, MesCommand } from '../../base-command.js';
import { certificationMessages as m } from '../../certification-messages.js';
import { logVerificationView, type LogVerifyResult } from '../../certification-views.js';

type Decision = components['schemas']['Decision'];
interface SavedLog {
  items: Decision[];
  head?: { seq: number; hash: string };
}

export default class LogVerify extends MesCommand<typeof LogVerify> {
  static override summary = 'Verify the public decision log: every certification decision, hash-chained.';
  static override description = `Fetches the whole log (page after page) and recomputes the chain: positions contiguous from 1, each entry's hash (SHA-256 of its RFC 8785 canonical JSON without "hash"), each entry's previousHash equal to the hash before it, and the last entry equal to the head the API publishes. Prints how many entries were checked and the head, or where the chain breaks (sequence_gap, broken_link, hash_mismatch, head_mismatch).

--from-file verifies a saved log offline instead ({ "items": [...], "head": { "seq", "hash" } }, as the API answers it); --save writes the fetched log to a file, to verify again later or elsewhere. No API key needed.

Exit status: 0 when the log verifies, 1 when it is broken.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --save decisions.json',
    '<%= config.bin %> <%= command.id %> --from-file decisions.json --json',
  ];

  static override flags = {
    'from-file': Flags.string({ summary: 'Verify this saved log ({ items, head }) offline, without calling the API.', helpValue: '<file>', exclusive: ['save'] }),
    save: Flags.string({ summary: 'Also write the fetched log ({ items, head }) to this file.', helpValue: '<file>' }),
  };

  async run(): Promise<LogVerifyResult> {
    const file = this.flags['from-file'];
    const log = file ? await readSavedLog(file) : await (await this.client({ authenticated: false })).certification.allDecisions();
    if (this.flags.save) {
      await writeFile(this.flags.save, `${JSON.stringify(log, null, 2)}\n`);
      this.log(m.logSaved(this.flags.save));
    }
    const verification = await verifyDecisionLog(log.items, log.head ? { head: log.head } : {});
    const result: LogVerifyResult = { ...verification, source: file ? 'file' : 'api', ...(file ? { file } : {}), publishedHead: log.head ?? null };
    this.log(logVerificationView(result));
    if (!result.valid) process.exitCode = 1;
    return result;
  }
}

async function readSavedLog(file: string): Promise<SavedLog> {
  const value = await readJsonObject(file);
  const { items, head } = value as { items?: unknown; head?: unknown };
  const isHead = (h: unknown): h is SavedLog['head'] =>
    typeof h === 'object' && h !== null && typeof (h as { seq?: unknown }).seq === 'number' && typeof (h as { hash?: unknown }).hash === 'string';
  if (!Array.isArray(items) || !items.every((item) => typeof item === 'object' && item !== null) || (head !== undefined && !isHead(head))) {
    throw new CodedError(m.logFileInvalid(file), 'invalid_file');
  }
  return { items: items as Decision[], ...(head !== undefined ? { head: head as SavedLog['head'] } : {}) };
}
