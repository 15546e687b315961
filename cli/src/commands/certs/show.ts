import type { Certificate } from '@mes/sdk/publisher';
import { Args } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { certificateDetails } from '../../certification-views.js';

export default class CertsShow extends MesCommand<typeof CertsShow> {
  static override summary = 'Show a certificate and its state now.';
  static override description = `Its reference, app, version, state (certified, suspended, revoked, expired, superseded) with when and why it changed, validity, the scopes and redirect URIs it certifies, and the decision-log entries it rests on. Public: no API key needed.

--json includes the signed certificate (jws); check it offline with "mes certs verify".`;

  static override examples = ['<%= config.bin %> <%= command.id %> 7a3e…', '<%= config.bin %> <%= command.id %> 7a3e… --json > certificate.json'];
  static override args = { certificate: Args.string({ description: 'The certificate id.', required: true }) };

  async run(): Promise<Certificate> {
    const certificate = await (await this.client({ authenticated: false })).certification.certificate(this.args.certificate);
    this.log(certificateDetails(certificate));
    return certificate;
  }
}
