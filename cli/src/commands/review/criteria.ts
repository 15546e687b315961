import { Flags } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { criteriaView, type Criteria } from '../../certification-views.js';
import { criteriaTemplate, type CriteriaTemplate } from '../../review-verdicts.js';

export default class ReviewCriteria extends MesCommand<typeof ReviewCriteria> {
  static override summary = 'Show the certification criteria, or a criteria file to fill in.';
  static override description = `The criteria reviewers judge on, grouped as ethics, security, interoperability and urbanisation: for each, its id, title, guidance and the automated checks that inform it. By default the version in force; a submission is reviewed against the version it was submitted under (its "criteria" in "mes review show").

--template prints instead a ready-to-fill criteria file for "mes review approve|reject|request-changes --criteria": every criterion of the version set to "pass". Change a verdict to "fail" or "not_applicable" by writing { "verdict": "fail", "note": "why" } in its place. No API key needed.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --version 2026.1 --json',
    '<%= config.bin %> <%= command.id %> --template > criteria.json',
  ];

  static override flags = {
    version: Flags.string({ summary: 'The criteria version (default: the one in force).', helpValue: '<version>' }),
    template: Flags.boolean({ summary: 'Print a criteria file with every criterion set to "pass", to fill in.' }),
  };

  async run(): Promise<Criteria | CriteriaTemplate> {
    const criteria = await (await this.client({ authenticated: false })).certification.criteria(this.flags.version);
    if (this.flags.template) {
      const template = criteriaTemplate(criteria);
      this.log(JSON.stringify(template, null, 2));
      return template;
    }
    this.log(criteriaView(criteria));
    return criteria;
  }
}
