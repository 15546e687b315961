import { writeFile } from 'node:fs/promises';
import { Args, Flags } from '@oclif/core';
import { CodedError, MesCommand } from '../../base-command.js';
import { certificationMessages as m } from '../../certification-messages.js';
import { buildReport, renderReport, reportFormats, type CertificationReport } from '../../certification-report.js';

export default class ReviewReport extends MesCommand<typeof ReviewReport> {
  static override summary = 'Write the portable report of a submission (reviewers).';
  static override description = `One document with everything the decision rests on: the app, publisher, version and criteria version; the snapshot certified (scopes, redirect URIs, documents, compliance); every automated check with its status, summary, evidence (JSON) and remedy; every review with the reviewer's name, decision, verdict on each criterion and notes; the submission's entries of the public decision log with their hashes (recomputed here); and the certificate with its signed JWS, if one was issued.

--format html is a standalone page (no external resource, inline CSS, every value escaped), md is Markdown that reads well on GitHub, json is the data itself. The report goes to standard output, or to --output. --json prints the report's data whatever the format.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> 5d1c… --format md > report.md',
    '<%= config.bin %> <%= command.id %> 5d1c… --format html --output report.html',
    '<%= config.bin %> <%= command.id %> 5d1c… --format json --output report.json',
  ];

  static override args = { submission: Args.string({ description: 'The submission id (see "mes review queue").', required: true }) };
  static override flags = {
    format: Flags.option({ options: reportFormats, summary: 'The document to write.', default: 'md' as const, char: 'f' })(),
    output: Flags.string({ char: 'o', summary: 'Write the report to this file instead of standard output.', helpValue: '<file>' }),
  };

  async run(): Promise<CertificationReport> {
    const report = await buildReport(await this.client({ authenticated: true }), this.args.submission);
    const document = renderReport(report, this.flags.format);
    const { output } = this.flags;
    if (output) {
      try {
        await writeFile(output, document);
      } catch (error) {
        throw new CodedError(m.reportNotWritable(output, (error as Error).message), 'invalid_file');
      }
      this.log(m.reportWritten(output, this.flags.format));
    } else {
      this.log(document.replace(/\n$/, ''));
    }
    return report;
  }
}
