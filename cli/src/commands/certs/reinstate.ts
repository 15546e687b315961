import type { PublisherClient } from '@mes/sdk/publisher';
import { CertificateActionCommand } from '../../certificate-action.js';

export default class CertsReinstate extends CertificateActionCommand {
  static override summary = 'Reinstate a suspended certificate (reviewers).';
  static override description = `The app is back in the catalogue; grants cut by the suspension stay ended (patients authorize again). Recorded in the public decision log with the reason. A reviewer linked to the publisher gets reviewer_conflict; a certificate that is not suspended, illegal_transition.`;

  static override examples = ['<%= config.bin %> <%= command.id %> 7a3e… --reason "Faille corrigée et vérifiée."'];

  protected readonly done = 'Reinstated';
  protected act(client: PublisherClient, id: string, reason: string) {
    return client.certification.reinstate(id, reason);
  }
}
