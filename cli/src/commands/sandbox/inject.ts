import { faultKinds, faultTargets, type Fault } from '@mes/sdk/publisher';
import { Flags } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { messages } from '../../messages.js';
import { clientIdArg } from '../../sandbox-args.js';
import { faultDetails } from '../../views.js';

export default class SandboxInject extends MesCommand<typeof SandboxInject> {
  static override summary = "Make the client's next requests fail.";
  static override description = `The next --count requests of the client at --target (the token endpoint, the FHIR API, or any) are answered with the fault instead of the real answer, so you can see how your app copes:

  invalid_client   token endpoint, 401
  invalid_scope    token endpoint, 400
  expired_token    FHIR API, 401 with WWW-Authenticate: DPoP error="invalid_token"
  revoked_grant    FHIR API 401 as above; token endpoint 400 invalid_grant
  rate_limited     429 with Retry-After (--retry-after, default 2 s)
  unavailable      503 with Retry-After (--retry-after, default 2 s)
  latency          the real answer, --latency milliseconds later (default 1000)

A fault that cannot apply to the target is refused (validation_failed). See the pending ones with "mes sandbox faults".`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> mes_… --fault rate_limited --target fhir --count 2 --retry-after 7',
    '<%= config.bin %> <%= command.id %> mes_… --fault expired_token --target fhir',
    '<%= config.bin %> <%= command.id %> mes_… --fault latency --latency 3000 --json',
  ];

  static override args = { clientId: clientIdArg };
  static override flags = {
    fault: Flags.option({ options: faultKinds, summary: 'The failure to answer with.', required: true })(),
    count: Flags.integer({ summary: 'For how many of the next requests (1 to 1000).', min: 1, max: 1000, default: 1 }),
    target: Flags.option({ options: faultTargets, summary: 'Which requests: token endpoint, FHIR API, or any (default: token for invalid_client and invalid_scope, fhir for expired_token, else any).' })(),
    'retry-after': Flags.integer({ summary: 'Retry-After seconds, for rate_limited and unavailable (1 to 3600).', min: 1, max: 3600, helpValue: '<seconds>' }),
    latency: Flags.integer({ summary: 'Delay in milliseconds, for latency (1 to 30000).', min: 1, max: 30_000, helpValue: '<ms>' }),
  };

  async run(): Promise<Fault> {
    const { fault: kind, count, target, 'retry-after': retryAfterSeconds, latency: latencyMs } = this.flags;
    const client = await this.client({ authenticated: true });
    const fault = await client.sandbox.injectFault(this.args.clientId, {
      kind,
      count,
      ...(target ? { target } : {}),
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      ...(latencyMs !== undefined ? { latencyMs } : {}),
    });
    this.log(messages.faultInjected(fault.kind, fault.remaining, fault.target, this.args.clientId));
    this.log(faultDetails(fault));
    return fault;
  }
}
