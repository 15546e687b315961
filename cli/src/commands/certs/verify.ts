import { readFile } from 'node:fs/promises';
import { ApiError, ConnectionError, type Certificate, type PublisherClient } from '@mes/sdk/publisher';
import { verifyCertificate, type CertificateClaims, type CertificateKey } from '@mes/sdk/certification';
import { Args, Flags } from '@oclif/core';
import { CodedError, MesCommand } from '../../base-command.js';
import { certificationMessages as m } from '../../certification-messages.js';
import { certificateVerificationView, type CertificateVerifyResult } from '../../certification-views.js';
import { compactJws, jwsInText } from '../../jws-text.js';
import { readStdinText } from '../../stdin.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default class CertsVerify extends MesCommand<typeof CertsVerify> {
  static override summary = 'Verify a certificate: its signature by the platform key and its validity period.';
  static override description = `<certificate> is a certificate id (fetched from the API), a file holding the certificate (its JWS, or the JSON of "mes certs show --json"), or "-" to read it from standard input.

The signature is checked against the platform's published keys: fetched from /certification/keys, or read from --jwks <file> (a JWKS saved from "mes api getCertificationKeys" or /certification/keys), in which case the verdict uses no network at all. Prints valid or invalid with the reason (malformed, unsupported_algorithm, unknown_key, bad_signature, not_yet_valid, expired), and what the certificate says: reference, app, version, scopes, redirect URIs, validity, and the decision-log entries it rests on.

Suspension and revocation are online facts the signature cannot show: unless --offline, the certificate's state now is read from the API too, when it answers (never changing the signature's verdict). --offline makes no network call at all; it needs --jwks and the certificate itself, not its id.

Exit status: 0 when the certificate is valid, 1 when it is not.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> 7a3e…',
    '<%= config.bin %> <%= command.id %> certificate.jws --jwks keys.json --offline',
    'curl -s https://…/certification/certificates/7a3e… | jq -r .jws | <%= config.bin %> <%= command.id %> - --json',
  ];

  static override args = {
    certificate: Args.string({ description: 'A certificate id, a file with the certificate (JWS or JSON), or "-" for standard input.', required: true }),
  };

  static override flags = {
    jwks: Flags.string({ summary: 'Verify with the keys of this JWKS file instead of fetching /certification/keys.', helpValue: '<file>' }),
    offline: Flags.boolean({ summary: 'Make no network call (needs --jwks, and the certificate as a file or on standard input).', dependsOn: ['jwks'] }),
  };

  async run(): Promise<CertificateVerifyResult> {
    const { offline } = this.flags;
    const input = this.args.certificate;
    if (offline && uuid.test(input)) throw new CodedError(m.offlineNeedsCertificate, 'invalid_argument');
    const client = offline ? null : await this.client({ authenticated: false });

    let fetched: Certificate | null = null;
    let jws: string;
    let source: CertificateVerifyResult['certificate'];
    if (input === '-') {
      jws = jwsOf(await readStdinText(), 'standard input');
      source = { source: 'stdin' };
    } else if (uuid.test(input)) {
      fetched = await client!.certification.certificate(input);
      jws = fetched.jws;
      source = { source: 'api', id: input };
    } else if (compactJws.test(input.trim())) {
      jws = input.trim();
      source = { source: 'argument' };
    } else {
      jws = jwsOf(await readCertificateFile(input), input);
      source = { source: 'file', file: input };
    }

    const jwksFile = this.flags.jwks;
    const keys = jwksFile ? await readJwks(jwksFile) : (await client!.certification.keys()).keys;
    const verification = await verifyCertificate(jws, keys);
    const result: CertificateVerifyResult = {
      ...verification,
      certificate: source,
      keys: { source: jwksFile ? 'file' : 'api', ...(jwksFile ? { file: jwksFile } : {}), kids: keys.map((key) => key.kid ?? '').filter(Boolean) },
      offline,
      state: null,
    };
    if (!offline) Object.assign(result, await currentState(client!, fetched, verification.claims));
    this.log(certificateVerificationView(result));
    if (!result.valid) process.exitCode = 1;
    return result;
  }
}

/** The certificate's state now. A failure here says so, and leaves the verdict alone. */
async function currentState(
  client: PublisherClient,
  fetched: Certificate | null,
  claims: CertificateClaims | undefined,
): Promise<Pick<CertificateVerifyResult, 'state' | 'stateError'>> {
  const pick = (c: Certificate) => ({ id: c.id, state: c.state, stateReason: c.stateReason, stateChangedAt: c.stateChangedAt });
  if (fetched) return { state: pick(fetched) };
  const id = typeof claims?.jti === 'string' ? claims.jti : null;
  if (!id || !uuid.test(id)) return { state: null, stateError: 'the certificate names no certificate id (jti)' };
  try {
    return { state: pick(await client.certification.certificate(id, { maxRetries: 0 })) };
  } catch (error) {
    if (error instanceof ApiError) return { state: null, stateError: error.status === 404 ? `the API knows no certificate ${id}` : `${error.code ?? error.status}: ${error.message}` };
    if (error instanceof ConnectionError) return { state: null, stateError: `the API did not answer (${error.message})` };
    throw error;
  }
}

async function readCertificateFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CodedError(m.notACertificate(file), 'invalid_argument');
    throw new CodedError(m.jwsNotReadable(file, (error as Error).message), 'invalid_file');
  }
}

/** The JWS in a file's text: the JWS itself, or the `jws` of a certificate's JSON. */
function jwsOf(text: string, source: string): string {
  const found = jwsInText(text);
  if ('jws' in found) return found.jws;
  // A text that is neither is passed on as it is: verification says it is malformed.
  if (found.problem === 'not_json') throw new CodedError(m.jwsNotReadable(source, 'it starts with "{" but is not valid JSON'), 'invalid_file');
  if (text.trim().startsWith('{')) throw new CodedError(m.noJwsInJson(source), 'invalid_file');
  return text.trim();
}

async function readJwks(file: string): Promise<CertificateKey[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CodedError(m.jwksNotReadable(file, (error as Error).message), 'invalid_file');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CodedError(m.jwksInvalid(file), 'invalid_file');
  }
  const keys = Array.isArray(value) ? value : (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.every((key) => typeof key === 'object' && key !== null && typeof (key as { kty?: unknown }).kty === 'string')) {
    throw new CodedError(m.jwksInvalid(file), 'invalid_file');
  }
  return keys as CertificateKey[];
}
