import type { PageData, SubmissionSummary } from '@mes/sdk/publisher';
import { Flags } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { certificationMessages as m } from '../../certification-messages.js';
import { submissionStates } from '../../certification-states.js';
import { messages } from '../../messages.js';
import { reviewQueueTable } from '../../certification-views.js';

export default class ReviewQueue extends MesCommand<typeof ReviewQueue> {
  static override summary = 'List the submissions waiting for review (reviewers).';
  static override description = `Oldest first. By default the open ones (submitted, in_review); --state shows those in one state. Each row says how many approvals it has (two are needed, from two different reviewers), how many checks fail in its latest run, and whether you may review it: a reviewer linked to the publisher (employment, consulting, shareholding, its domain) may not (the conflict column says why).

Shows one page (--limit); follow --cursor for the next one, or pass --all. Needs a reviewer key (mes_rk_…), from MES_TOKEN or "mes login".`;

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --state changes_requested',
    'MES_TOKEN=mes_rk_… <%= config.bin %> <%= command.id %> --all --json',
  ];

  static override flags = {
    state: Flags.option({ options: submissionStates, summary: 'Only the submissions in this state.' })(),
    limit: Flags.integer({ summary: 'Submissions per page (1 to 100).', min: 1, max: 100, default: 20 }),
    cursor: Flags.string({ summary: 'The cursor printed after the previous page.', exclusive: ['all'] }),
    all: Flags.boolean({ summary: 'Every submission (up to 10 000), fetching page after page.' }),
  };

  async run(): Promise<PageData<SubmissionSummary>> {
    const client = await this.client({ authenticated: true });
    const { state, limit, cursor, all } = this.flags;
    const request = client.certification.queue({ limit, ...(state ? { state } : {}), ...(cursor ? { cursor } : {}) });
    const result: PageData<SubmissionSummary> = all ? { items: await request.all({ limit: 10_000 }), nextCursor: null } : (await request).toJSON();
    if (result.items.length === 0) this.log(m.emptyQueue(state));
    else this.log(reviewQueueTable(result.items));
    if (result.nextCursor) {
      this.log(`\n${messages.morePages(`${this.config.bin} review queue --limit ${limit}${state ? ` --state ${state}` : ''}`, result.nextCursor)}`);
    }
    return result;
  }
}
