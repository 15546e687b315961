import type { Certificate, PageData } from '@mes/sdk/publisher';
import { Flags } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { certificationMessages as m } from '../../certification-messages.js';
import { certificateStates } from '../../certification-states.js';
import { certificatesTable } from '../../certification-views.js';
import { messages } from '../../messages.js';

export default class CertsList extends MesCommand<typeof CertsList> {
  static override summary = 'List certificates.';
  static override description = `Newest first, of every app or one (--app), in any state or one (--state: certified, suspended, revoked, expired, superseded). Public: no API key needed.

Shows one page (--limit); follow --cursor for the next one, or pass --all.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --app 0b6f… --state certified',
    '<%= config.bin %> <%= command.id %> --state suspended --all --json',
  ];

  static override flags = {
    app: Flags.string({ summary: "Only this app's certificates (its id).", helpValue: '<appId>' }),
    state: Flags.option({ options: certificateStates, summary: 'Only the certificates in this state.' })(),
    limit: Flags.integer({ summary: 'Certificates per page (1 to 100).', min: 1, max: 100, default: 20 }),
    cursor: Flags.string({ summary: 'The cursor printed after the previous page.', exclusive: ['all'] }),
    all: Flags.boolean({ summary: 'Every certificate (up to 10 000), fetching page after page.' }),
  };

  async run(): Promise<PageData<Certificate>> {
    const client = await this.client({ authenticated: false });
    const { app, state, limit, cursor, all } = this.flags;
    const request = client.certification.certificates({ limit, ...(app ? { appId: app } : {}), ...(state ? { state } : {}), ...(cursor ? { cursor } : {}) });
    const result: PageData<Certificate> = all ? { items: await request.all({ limit: 10_000 }), nextCursor: null } : (await request).toJSON();
    if (result.items.length === 0) this.log(m.noCertificates);
    else this.log(certificatesTable(result.items));
    if (result.nextCursor) {
      const command = `${this.config.bin} certs list --limit ${limit}${app ? ` --app ${app}` : ''}${state ? ` --state ${state}` : ''}`;
      this.log(`\n${messages.morePages(command, result.nextCursor)}`);
    }
    return result;
  }
}
