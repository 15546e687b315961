// What `mes certs suspend`, `reinstate` and `revoke` share: a certificate, a reason, one call.
import type { Certificate, PublisherClient } from '@mes/sdk/publisher';
import { Args, Flags } from '@oclif/core';
import { MesCommand } from './base-command.js';
import { certificationMessages as m } from './certification-messages.js';
import { certificateDetails } from './certification-views.js';

export abstract class CertificateActionCommand extends MesCommand<typeof CertificateActionCommand> {
  static override args = { certificate: Args.string({ description: 'The certificate id (see "mes certs list").', required: true }) };
  static override flags = {
    reason: Flags.string({ char: 'r', summary: "Why (5 to 2000 characters): published in the decision log and shown to the app's patients.", required: true, helpValue: '<text>' }),
  };

  /** How the command's action reads in its confirmation ("Suspended"). */
  protected abstract readonly done: string;
  protected abstract act(client: PublisherClient, certificateId: string, reason: string): Promise<Certificate>;

  async run(): Promise<Certificate> {
    const client = await this.client({ authenticated: true });
    const certificate = await this.act(client, this.args.certificate, this.flags.reason.trim());
    this.log(m.certificateChanged(this.done, certificate.reference, certificate.id, certificate.state));
    this.log(certificateDetails(certificate));
    return certificate;
  }
}
