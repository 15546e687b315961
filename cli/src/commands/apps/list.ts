import type { App, PageData } from '@mes/sdk/publisher';
import { Flags } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { messages } from '../../messages.js';
import { appsTable } from '../../views.js';

export default class AppsList extends MesCommand<typeof AppsList> {
  static override summary = 'List your apps.';
  static override description = 'Oldest first. Shows one page (--limit apps); follow --cursor for the next one, or pass --all.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --limit 50 --json',
    '<%= config.bin %> <%= command.id %> --all',
  ];

  static override flags = {
    limit: Flags.integer({ summary: 'Apps per page (1 to 100).', min: 1, max: 100, default: 20 }),
    cursor: Flags.string({ summary: 'The cursor printed after the previous page.', exclusive: ['all'] }),
    all: Flags.boolean({ summary: 'Every app (up to 10 000), fetching page after page.' }),
  };

  async run(): Promise<PageData<App>> {
    const client = await this.client({ authenticated: true });
    const { limit, cursor, all } = this.flags;
    const request = client.apps.list({ limit, ...(cursor ? { cursor } : {}) });
    const result: PageData<App> = all ? { items: await request.all({ limit: 10_000 }), nextCursor: null } : (await request).toJSON();
    if (result.items.length === 0) this.log(messages.noApps);
    else this.log(appsTable(result.items));
    if (result.nextCursor) this.log(`\n${messages.morePages(`${this.config.bin} apps list --limit ${limit}`, result.nextCursor)}`);
    return result;
  }
}
