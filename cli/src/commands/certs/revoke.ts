import type { PublisherClient } from '@mes/sdk/publisher';
import { CertificateActionCommand } from '../../certificate-action.js';

export default class CertsRevoke extends CertificateActionCommand {
  static override summary = 'Revoke a certificate, for good (reviewers).';
  static override description = `Final: every token of the app stops working, the app leaves the catalogue and its patients are told; a revoked certificate cannot be reinstated (the publisher must submit again). Recorded in the public decision log with the reason. A reviewer linked to the publisher gets reviewer_conflict; a certificate neither certified nor suspended, illegal_transition.`;

  static override examples = ['<%= config.bin %> <%= command.id %> 7a3e… --reason "Hébergement sans certification HDS."'];

  protected readonly done = 'Revoked';
  protected act(client: PublisherClient, id: string, reason: string) {
    return client.certification.revoke(id, reason);
  }
}
