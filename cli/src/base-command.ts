// The base of every `mes` command: the global --api-url and --json flags, the API client built
// from the flags, the environment and the saved login, and one way of reporting failures.
import { ApiError, ConnectionError, createPublisherClient, MesError, type PublisherClient } from '@mes/sdk/publisher';
import { Command, Errors, Flags, type Interfaces } from '@oclif/core';
import { configFile, CredentialsError, isTooOpen, readLogin, type StoredLogin } from './credentials.js';
import { defaultApiUrl, messages } from './messages.js';
import { CLI_CLIENT_ID, fileSessionStorage, hasSession } from './session-storage.js';

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof MesCommand)['baseFlags'] & T['flags']>;
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

/** What `--json` prints when a command fails. */
export interface ErrorJson {
  error: {
    code: string;
    message: string;
    status?: number;
    requestId?: string;
    errors?: readonly { pointer: string; detail: string }[];
  };
}

/** A failure with a machine-readable code, for --json output and tests. */
class CodedError extends Errors.CLIError {
  constructor(
    message: string,
    readonly errorCode: string,
    readonly details: Omit<ErrorJson['error'], 'code' | 'message'> = {},
  ) {
    super(message, { exit: 1 });
  }
}

export abstract class MesCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    'api-url': Flags.string({
      summary: `Base URL of the API (default: the one saved by "mes login", else ${defaultApiUrl}).`,
      env: 'MES_API_URL',
      helpGroup: 'GLOBAL',
      helpValue: '<url>',
    }),
  };

  protected flags!: CommandFlags<T>;
  protected args!: CommandArgs<T>;
  #login: StoredLogin | undefined;

  override async init(): Promise<void> {
    await super.init();
    const { args, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof MesCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as CommandFlags<T>;
    this.args = args as CommandArgs<T>;
  }

  /** The saved login (read once); warns when its file is readable by others. */
  protected async savedLogin(): Promise<StoredLogin> {
    if (!this.#login) {
      this.#login = await readLogin(this.config.configDir);
      if (this.#login.apiKey && (await isTooOpen(this.config.configDir))) {
        this.warn(messages.configTooOpen(configFile(this.config.configDir)));
      }
    }
    return this.#login;
  }

  protected async apiUrl(): Promise<string> {
    return this.flags['api-url'] ?? (await this.savedLogin()).apiUrl ?? defaultApiUrl;
  }

  /**
   * The key to call the API with: MES_TOKEN (a publisher's `mes_pk_` or a reviewer's `mes_rk_`
   * key, for automation), else MES_API_KEY, else the saved login.
   */
  protected async apiKey(): Promise<string | undefined> {
    return process.env.MES_TOKEN || process.env.MES_API_KEY || (await this.savedLogin()).apiKey;
  }

  /**
   * A client of the API. With `authenticated`: the key (MES_TOKEN, MES_API_KEY, saved key), else
   * the signed-in session of `mes login` (DPoP-bound platform tokens, refreshed as needed); fails
   * early when there is neither.
   */
  protected async client(options: { authenticated: boolean; apiKey?: string }): Promise<PublisherClient> {
    const apiKey = options.apiKey ?? (options.authenticated ? await this.apiKey() : undefined);
    if (options.authenticated && !apiKey) {
      if (await hasSession(this.config.configDir)) return this.sessionClient();
      throw new CodedError(messages.noApiKey, messages.noApiKeyCode);
    }
    return createPublisherClient({ baseUrl: await this.apiUrl(), apiKey });
  }

  /** A client on the signed-in session's storage (also the one `mes login` signs in with). */
  protected async sessionClient(): Promise<PublisherClient> {
    return createPublisherClient({ baseUrl: await this.apiUrl(), clientId: CLI_CLIENT_ID, storage: fileSessionStorage(this.config.configDir) });
  }

  /** Turns SDK failures into one-line errors that start with the server's code. */
  override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    return super.catch(toCliError(error));
  }

  protected override toErrorJson(error: unknown): ErrorJson {
    if (error instanceof CodedError) {
      return { error: { code: error.errorCode, message: error.message, ...error.details } };
    }
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown } | null)?.code;
    return { error: { code: typeof code === 'string' ? code : 'cli_error', message } };
  }
}

function toCliError(error: Error): Error {
  if (error instanceof ApiError) {
    return new CodedError(error.message, error.code ?? `http_${error.status}`, {
      status: error.status,
      ...(error.requestId ? { requestId: error.requestId } : {}),
      ...(error.errors.length ? { errors: error.errors } : {}),
    });
  }
  if (error instanceof ConnectionError) return new CodedError(messages.unreachable(error.message), 'connection_failed');
  if (error instanceof CredentialsError) return new CodedError(messages.configNotJson(error.message), 'invalid_config');
  if (error instanceof MesError) return new CodedError(error.message, 'client_error');
  return error;
}

export { CodedError };
