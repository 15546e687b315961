import { createInterface } from 'node:readline/promises';
import { Args, Flags } from '@oclif/core';
import { CodedError, MesCommand } from '../../base-command.js';
import { messages } from '../../messages.js';
import { isInteractive } from '../../stdin.js';

export interface DeleteResult {
  id: string;
  deleted: boolean;
}

export default class AppsDelete extends MesCommand<typeof AppsDelete> {
  static override summary = 'Delete one of your apps.';
  static override description = `Deletes an app that is not in the catalogue (a certified or suspended app cannot be deleted: app_not_deletable).

Asks for confirmation in a terminal; elsewhere (scripts, CI, --json) it refuses unless --yes is given.`;

  static override examples = ['<%= config.bin %> <%= command.id %> 0b6f…', '<%= config.bin %> <%= command.id %> 0b6f… --yes --json'];
  static override args = { id: Args.string({ description: 'The app id.', required: true }) };
  static override flags = {
    yes: Flags.boolean({ char: 'y', summary: 'Do not ask for confirmation.' }),
  };

  async run(): Promise<DeleteResult> {
    const { id } = this.args;
    const client = await this.client({ authenticated: true });
    if (!this.flags.yes) {
      if (this.jsonEnabled() || !isInteractive()) throw new CodedError(messages.deleteNeedsYes(id), 'confirmation_required');
      if (!(await this.confirm(messages.deletePrompt(id)))) {
        this.log(messages.deleteCancelled);
        return { id, deleted: false };
      }
    }
    await client.apps.delete(id);
    this.log(messages.appDeleted(id));
    return { id, deleted: true };
  }

  private async confirm(question: string): Promise<boolean> {
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return (await prompt.question(question)).trim().toLowerCase() === 'yes';
    } finally {
      prompt.close();
    }
  }
}
