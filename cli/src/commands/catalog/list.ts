import { appCategories, type CatalogApp, type PageData } from '@mes/sdk/publisher';
import { Flags } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { messages } from '../../messages.js';
import { catalogTable } from '../../views.js';

export default class CatalogList extends MesCommand<typeof CatalogList> {
  static override summary = 'Browse the public catalogue of certified apps.';
  static override description = 'Certified apps sorted by name, searched by text (names and descriptions, case- and accent-insensitive) and filtered by category. No API key needed.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --search tension --category suivi-maladie-chronique',
    '<%= config.bin %> <%= command.id %> --all --json',
  ];

  static override flags = {
    search: Flags.string({ char: 'q', summary: 'Text to look for in names and descriptions.' }),
    category: Flags.option({ options: appCategories, summary: 'Only apps of this category.' })(),
    limit: Flags.integer({ summary: 'Apps per page (1 to 100).', min: 1, max: 100, default: 20 }),
    cursor: Flags.string({ summary: 'The cursor printed after the previous page.', exclusive: ['all'] }),
    all: Flags.boolean({ summary: 'Every matching app (up to 10 000), fetching page after page.' }),
  };

  async run(): Promise<PageData<CatalogApp>> {
    const client = await this.client({ authenticated: false });
    const { search, category, limit, cursor, all } = this.flags;
    const request = client.catalog.list({
      limit,
      ...(search ? { q: search } : {}),
      ...(category ? { category } : {}),
      ...(cursor ? { cursor } : {}),
    });
    const result: PageData<CatalogApp> = all ? { items: await request.all({ limit: 10_000 }), nextCursor: null } : (await request).toJSON();
    if (result.items.length === 0) this.log(messages.noCatalogApps);
    else this.log(catalogTable(result.items));
    if (result.nextCursor) {
      const filters = [search ? ` --search ${JSON.stringify(search)}` : '', category ? ` --category ${category}` : ''].join('');
      this.log(`\n${messages.morePages(`${this.config.bin} catalog list${filters} --limit ${limit}`, result.nextCursor)}`);
    }
    return result;
  }
}
