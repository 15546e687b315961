// The run time of every generated `mes api <operationId>` command: builds the request from the
// flags, authenticates it as the operation's security says, sends it, and prints the answer with
// the exit-code contract of the help (0 for 2xx/3xx, 1 for 4xx, 2 for 5xx or no answer).
import { readFile } from 'node:fs/promises';
import { CodedError, MesCommand, type ErrorJson } from '../base-command.js';
import { dpopProof, proofTarget } from '../sandbox-dpop.js';
import { readSandboxToken, type SavedSandboxToken } from '../sandbox-token.js';
import { readStdinText } from '../stdin.js';
import { hasSession } from '../session-storage.js';
import type { FetchLike } from '@mes/sdk/publisher';
import { defaultTimeoutSeconds } from './help.js';
import { apiMessages } from './messages.js';
import type { Operation } from './operation.js';
import {
  buildBody,
  buildUrl,
  describeFailure,
  failureMessage,
  isJsonType,
  isTextType,
  parameterHeaders,
  safeText,
  type BodySource,
  type FlagValues,
} from './request.js';

export { operationDescription, operationExamples, operationFlags } from './help.js';

/** A failure of the call, with its exit code: 1 when the request was refused, 2 when the server failed or did not answer. */
export class ApiCallError extends CodedError {
  /** Read by oclif under --json (process.exitCode), where oclif.exit is not used. */
  readonly exitCode: 1 | 2;

  constructor(message: string, code: string, details: Omit<ErrorJson['error'], 'code' | 'message'>, exit: 1 | 2) {
    super(message, code, details);
    this.oclif.exit = exit;
    this.exitCode = exit;
  }
}

export abstract class ApiOperationCommand extends MesCommand<typeof ApiOperationCommand> {
  /**
   * The operation, set by each generated command as a static getter: a getter is not enumerable,
   * so oclif leaves it out of the manifest, and `mes api --list` reads it from the loaded commands.
   */
  static get operation(): Operation | undefined {
    return undefined;
  }

  /** Under --json oclif exits with 1 unless told otherwise: keep the exit code of the failure (2 for wrong flags). */
  override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (error.exitCode === undefined && typeof error.oclif?.exit === 'number') error.exitCode = error.oclif.exit;
    return super.catch(error);
  }

  async run(): Promise<unknown> {
    const operation = (this.constructor as typeof ApiOperationCommand).operation;
    if (!operation) throw new Error(`${this.id} is not a generated mes api command`);
    const values = this.flags as FlagValues;
    const url = buildUrl(await this.apiUrl(), operation, values);
    const headers = parameterHeaders(operation, values);
    const fields = (values.field as string[] | undefined) ?? [];
    const body = buildBody(operation, await this.bodySource(values.body as string | undefined), fields);
    if (body) headers['content-type'] = body.contentType;
    headers['user-agent'] = `${this.config.userAgent} (api ${operation.operationId})`;

    const credentials = await this.credentials(operation, url);
    const timeout = (values.timeout as number | undefined) ?? defaultTimeoutSeconds;
    let response = await this.send(url, { method: operation.method, headers: { ...headers, ...credentials.headers() }, body: body?.content }, timeout, credentials.fetch);
    // The resource server may ask for a DPoP nonce once: retry with it.
    const nonce = response.headers.get('dpop-nonce');
    if (response.status === 401 && nonce && credentials.sandboxToken && /use_dpop_nonce/.test(response.headers.get('www-authenticate') ?? '')) {
      response = await this.send(url, { method: operation.method, headers: { ...headers, ...credentials.headers(nonce) }, body: body?.content }, timeout);
    }
    return this.report(response, credentials.hint);
  }

  /** The --body content: a file, or standard input for "-". */
  private async bodySource(file: string | undefined): Promise<BodySource | undefined> {
    if (file === undefined) return undefined;
    if (file === '-') return { name: '-', content: Buffer.from(await readStdinText(), 'utf8') };
    try {
      return { name: file, content: await readFile(file) };
    } catch (error) {
      throw new CodedError(`Cannot read ${file}: ${(error as Error).message}`, 'invalid_file');
    }
  }

  /** The Authorization (and DPoP) headers the operation's security allows the CLI to send. */
  private async credentials(operation: Operation, url: URL) {
    const none = {
      headers: (_nonce?: string) => ({}) as Record<string, string>,
      hint: undefined as string | undefined,
      sandboxToken: undefined as SavedSandboxToken | undefined,
      fetch: undefined as FetchLike | undefined,
    };
    if (operation.auth === 'apiKey') {
      const apiKey = await this.apiKey();
      // Without a key, the signed-in session of `mes login` (DPoP-bound platform tokens).
      if (!apiKey && (await hasSession(this.config.configDir))) return { ...none, fetch: (await this.sessionClient()).fetchWithCredentials };
      if (!apiKey) return { ...none, hint: apiMessages.noKeyHint };
      return { ...none, headers: () => ({ authorization: `Bearer ${apiKey}` }) };
    }
    if (operation.auth === 'sandboxToken') {
      let token: SavedSandboxToken;
      try {
        token = await readSandboxToken(this.config.configDir);
      } catch (error) {
        if (error instanceof CodedError && error.errorCode === 'no_sandbox_token') return { ...none, hint: apiMessages.noSandboxTokenHint };
        throw error;
      }
      // The token is for the server that issued it, never for another one.
      if (new URL(token.apiUrl).origin !== url.origin) return { ...none, hint: apiMessages.noSandboxTokenHint };
      if (Date.parse(token.expiresAt) <= Date.now()) this.warn(apiMessages.sandboxTokenExpired(token.expiresAt));
      return {
        ...none,
        sandboxToken: token,
        headers: (nonce?: string) => ({
          authorization: `DPoP ${token.accessToken}`,
          dpop: dpopProof(token.dpopPrivateJwk, { htm: operation.method, htu: proofTarget(url), accessToken: token.accessToken, nonce }),
        }),
      };
    }
    return none;
  }

  private async send(
    url: URL,
    init: { method: string; headers: Record<string, string>; body?: string | Buffer | undefined },
    timeoutSeconds: number,
    send: FetchLike = fetch,
  ): Promise<Response> {
    try {
      const body = typeof init.body === 'string' || init.body === undefined ? init.body : Uint8Array.from(init.body);
      return await send(url.href, { ...init, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutSeconds * 1000) });
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new ApiCallError(apiMessages.timeout(url.origin, timeoutSeconds), 'timeout', {}, 2);
      }
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiCallError(apiMessages.unreachable(url.origin, cause?.code ?? cause?.message ?? (error as Error).message), 'connection_failed', {}, 2);
    }
  }

  /** Prints the answer (or throws the failure) and returns what --json prints. */
  private async report(response: Response, hint: string | undefined): Promise<unknown> {
    const contentType = response.headers.get('content-type') ?? '';
    if (response.status >= 400) {
      const failure = describeFailure(response.status, response.statusText, response.headers, await response.text());
      const exit = response.status >= 500 ? 2 : 1;
      const withHint = response.status === 401 ? hint : undefined;
      throw new ApiCallError(failureMessage(failure, withHint), failure.code, {
        status: response.status,
        ...(failure.requestId ? { requestId: failure.requestId } : {}),
        ...(failure.errors ? { errors: failure.errors } : {}),
      }, exit);
    }
    // 304 Not Modified is no redirect: like a 204, it has nothing to show.
    if (response.status >= 300 && response.status !== 304) {
      const location = response.headers.get('location') ?? '';
      await response.body?.cancel();
      this.log(safeText(apiMessages.redirect(response.status, location)));
      return { status: response.status, location };
    }
    const bytes = Buffer.from(await response.arrayBuffer());
    if (bytes.length === 0) {
      this.log(apiMessages.noContent(response.status, response.statusText));
      return undefined;
    }
    if (isJsonType(contentType) || (!contentType && looksLikeJson(bytes))) {
      const text = bytes.toString('utf8');
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return this.printText(text);
      }
      this.log(JSON.stringify(value, null, 2));
      // oclif prints a truthy result under --json; null, false, 0 and "" it would skip.
      if (!value && this.jsonEnabled()) this.logJson(value);
      return value;
    }
    if (isTextType(contentType) || !contentType) return this.printText(bytes.toString('utf8'));
    // Images and other bytes: as they are when redirected, a note instead of noise in a terminal.
    if (process.stdout.isTTY && !this.jsonEnabled()) this.log(apiMessages.binary(bytes.length, contentType));
    else process.stdout.write(bytes);
    return undefined;
  }

  /** Text answers are printed as they are, with --json too (it is the response body). */
  private printText(text: string): undefined {
    const shown = process.stdout.isTTY ? safeText(text) : text;
    process.stdout.write(shown.endsWith('\n') ? shown : `${shown}\n`);
    return undefined;
  }
}

function looksLikeJson(bytes: Buffer): boolean {
  const first = bytes.toString('utf8', 0, 1);
  return first === '{' || first === '[';
}
