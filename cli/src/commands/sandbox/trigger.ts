import type { SandboxEvent, SandboxEventTopic } from '@mes/sdk/publisher';
import { Args, Flags } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { clientIdArg } from '../../sandbox-args.js';

const topics = ['new-document', 'appointment', 'new-message', 'new-measurement'] as const satisfies readonly SandboxEventTopic[];

export default class SandboxTrigger extends MesCommand<typeof SandboxTrigger> {
  static override summary = 'Make something happen to a synthetic patient, to try notifications.';
  static override description = `Writes what the topic names into the patient's record, as it happens for real: a consultation report the care team adds (new-document), an appointment booked a week ahead (appointment), a message the patient writes to the client's app (new-message), a weight from a connected scale (new-measurement). Every running subscription of the patient to that topic is notified within a second or so; the app then reads the resource with its token.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> mes_… new-document --patient sandbox-patient-1',
    '<%= config.bin %> <%= command.id %> mes_… new-message --patient sandbox-patient-1 --json',
  ];
  static override args = {
    clientId: clientIdArg,
    topic: Args.string({ description: `What happens: ${topics.join(', ')}.`, required: true, options: [...topics] }),
  };
  static override flags = {
    patient: Flags.string({ summary: 'The synthetic patient it happens to.', helpValue: '<id>', required: true }),
  };

  async run(): Promise<SandboxEvent> {
    const { patient } = this.flags;
    const topic = this.args.topic as SandboxEventTopic;
    const event = await (await this.client({ authenticated: true })).sandbox.triggerEvent(this.args.clientId, { topic, patient });
    this.log(`${event.resource} written for ${event.patient}; ${event.notified === 1 ? 'one subscription' : `${event.notified} subscriptions`} to notify.`);
    return event;
  }
}
