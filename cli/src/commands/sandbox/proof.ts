import { Flags } from '@oclif/core';
import { CodedError, MesCommand } from '../../base-command.js';
import { messages } from '../../messages.js';
import { dpopProof, proofTarget } from '../../sandbox-dpop.js';
import { readSandboxToken } from '../../sandbox-token.js';

export interface ProofResult {
  proof: string;
  htm: string;
  htu: string;
}

export default class SandboxProof extends MesCommand<typeof SandboxProof> {
  static override summary = 'Print a DPoP proof for one request with the saved sandbox token.';
  static override description = `Signs a DPoP proof (RFC 9449) with the key saved by "mes sandbox token": htm and htu of the request (the URL without its query), ath (the hash of the saved access token), a fresh jti and iat. It prints the proof alone on standard output, for a DPoP header. Each proof is for one request only: the server refuses a jti it has seen.

Get the token itself with "mes sandbox token … --json | jq -r .accessToken" (or jq -r .accessToken on the saved sandbox-token.json). No API key needed.`;

  static override examples = [
    {
      description: 'Read observations with curl',
      command: `TOKEN=$(<%= config.bin %> sandbox token --app 0b6f… --patient sandbox-patient-1 --json | jq -r .accessToken) &&
URL=http://localhost:4010/fhir/Observation &&
curl -H "Authorization: DPoP $TOKEN" -H "DPoP: $(<%= config.bin %> <%= command.id %> --url "$URL")" "$URL?category=vital-signs"`,
    },
    '<%= config.bin %> <%= command.id %> --url http://localhost:4010/fhir/Observation --method POST',
  ];

  static override flags = {
    url: Flags.string({ summary: 'The URL the request goes to (its query is left out of the proof).', required: true, helpValue: '<url>' }),
    method: Flags.string({ summary: 'The HTTP method of the request.', default: 'GET', helpValue: '<method>' }),
  };

  async run(): Promise<ProofResult> {
    let url: URL;
    try {
      url = new URL(this.flags.url);
    } catch {
      throw new CodedError(messages.badProofUrl(this.flags.url), 'invalid_flag');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new CodedError(messages.badProofUrl(this.flags.url), 'invalid_flag');
    const htm = this.flags.method.toUpperCase();
    if (!/^[A-Z]+$/.test(htm)) throw new CodedError(messages.badProofMethod(this.flags.method), 'invalid_flag');
    const token = await readSandboxToken(this.config.configDir);
    if (Date.parse(token.expiresAt) <= Date.now()) this.warn(messages.sandboxTokenExpired(token.expiresAt));
    const htu = proofTarget(url);
    const proof = dpopProof(token.dpopPrivateJwk, { htm, htu, accessToken: token.accessToken });
    this.log(proof);
    return { proof, htm, htu };
  }
}
