import type { PublisherClient } from '@mes/sdk/publisher';
import { CertificateActionCommand } from '../../certificate-action.js';

export default class CertsSuspend extends CertificateActionCommand {
  static override summary = 'Suspend a certificate (reviewers).';
  static override description = `Every token of the app stops working at once, the app leaves the catalogue and its patients are told. "mes certs reinstate" brings it back. Recorded in the public decision log with the reason. A reviewer linked to the publisher gets reviewer_conflict; a certificate that is not certified, illegal_transition.`;

  static override examples = ['<%= config.bin %> <%= command.id %> 7a3e… --reason "Faille signalée par le CERT Santé."'];

  protected readonly done = 'Suspended';
  protected act(client: PublisherClient, id: string, reason: string) {
    return client.certification.suspend(id, reason);
  }
}
