import { writeFile } from 'node:fs/promises';
import type { components } from '@mes/sdk/publisher';
import { Flags } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { clientIdArg } from '../../sandbox-args.js';
import { trafficReportDetails } from '../../views.js';

type SandboxEvidence = components['schemas']['SandboxEvidence'];

export default class SandboxEvidenceCommand extends MesCommand<typeof SandboxEvidenceCommand> {
  static override summary = "The client's traffic report, signed by the sandbox, for a submission on another platform.";
  static override description = `The sandbox signs the client's report (what "mes sandbox report" shows) with its key, naming the app and your registration number; the signature is valid 90 days. A platform that trusts this sandbox takes it as the evidence of a submission: "mes apps submit <app> --version … --evidence <file>" there. In the sandbox itself, submissions read the recorded traffic directly.

--output writes the evidence (the JWS) to a file, readable by you only; --json prints the whole answer.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> mes_… --output evidence.jws',
    '<%= config.bin %> <%= command.id %> mes_… --api-url http://localhost:4010 --output evidence.jws && <%= config.bin %> apps submit 0b6f… --version 1.0.0 --evidence evidence.jws --api-url https://api.mes.example.fr',
  ];
  static override args = { clientId: clientIdArg };
  static override flags = {
    output: Flags.string({ char: 'o', summary: 'Write the evidence (the JWS) to this file.', helpValue: '<file>' }),
  };

  async run(): Promise<SandboxEvidence> {
    const evidence = await (await this.client({ authenticated: true })).sandbox.evidence(this.args.clientId);
    this.log(trafficReportDetails(evidence.report));
    this.log(`\nSigned by ${evidence.issuer} for client ${evidence.clientId}, valid until ${evidence.expiresAt}.`);
    if (this.flags.output) {
      await writeFile(this.flags.output, `${evidence.jws}\n`, { mode: 0o600 });
      this.log(`Evidence written to ${this.flags.output}.`);
    } else if (!this.jsonEnabled()) {
      this.log(`\n${evidence.jws}`);
    }
    return evidence;
  }
}
