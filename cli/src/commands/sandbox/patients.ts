import type { SandboxPatientList } from '@mes/sdk/publisher';
import { Flags } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { messages } from '../../messages.js';
import { sandboxPatientsTable } from '../../views.js';

export default class SandboxPatients extends MesCommand<typeof SandboxPatients> {
  static override summary = "List the sandbox's synthetic patients.";
  static override description = `Searched by name (accents and case do not matter) or id, each with the children they may act for as guardian.

Give an id to "mes sandbox token --patient" (or <guardian>:<child> to act for a child): the sandbox then pre-approves consent, as it does for any authorization request with login_hint. Sandbox servers only (elsewhere: sandbox_only).`;

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --search "elodie lefevre"',
    '<%= config.bin %> <%= command.id %> --limit 100 --json',
  ];

  static override flags = {
    search: Flags.string({ char: 'q', summary: 'A name (or part of one) or an id.' }),
    limit: Flags.integer({ summary: 'How many patients at most (1 to 100).', min: 1, max: 100, default: 20 }),
  };

  async run(): Promise<SandboxPatientList> {
    const client = await this.client({ authenticated: true });
    const { search, limit } = this.flags;
    const result = await client.sandbox.patients({ limit, ...(search ? { q: search } : {}) });
    this.log(result.items.length ? sandboxPatientsTable(result.items) : messages.noSandboxPatients);
    return result;
  }
}
