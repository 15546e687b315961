import { Args, Flags } from '@oclif/core';
import { apiMessages } from '../../api/messages.js';
import type { Operation } from '../../api/operation.js';
import type { ApiOperationCommand } from '../../api/run-operation.js';
import { CodedError, MesCommand } from '../../base-command.js';
import { table } from '../../output.js';

export interface ListedOperation {
  operationId: string;
  method: string;
  path: string;
  summary: string;
  tag: string;
  security: readonly string[];
}

export default class Api extends MesCommand<typeof Api> {
  static override summary = 'Call any operation of the API: "mes api <operationId>"; --list shows them.';
  static override description = `Every operation of the OpenAPI spec is a command, generated from it: "mes api <operationId>" with a flag per parameter (kebab case: appId is --app-id, _count is --count), --body <file|-> and --field name=value for the request body, and --json to print only the response body. "mes api <operationId> --help" shows the flags, the body fields, the authentication and the exit codes of one operation.

Without an operation, lists them all (as --list does): operationId, method, path and summary; --tag keeps one tag; --json prints the list.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --list',
    '<%= config.bin %> <%= command.id %> --list --tag catalog',
    '<%= config.bin %> <%= command.id %> --list --json',
    '<%= config.bin %> <%= command.id %> listCatalogApps --q tension --json',
    '<%= config.bin %> <%= command.id %> getApp --app-id "$APP_ID"',
    '<%= config.bin %> <%= command.id %> createApp --body app.json --field name=TensioSuivi --json',
  ];

  static override args = {
    operation: Args.string({ description: 'An operationId (run it as "mes api <operationId>"; this only helps with a misspelt one).' }),
  };

  static override flags = {
    list: Flags.boolean({ char: 'l', summary: apiMessages.listSummary }),
    tag: Flags.string({ summary: apiMessages.tagSummary, helpValue: '<tag>' }),
  };

  async run(): Promise<ListedOperation[]> {
    const operations = await this.operations();
    if (this.args.operation) throw new CodedError(apiMessages.unknownOperation(this.args.operation, suggest(this.args.operation, operations)), 'unknown_operation');
    const { tag } = this.flags;
    const tags = [...new Set(operations.map((operation) => operation.tag).filter(Boolean))].sort();
    if (tag !== undefined && !tags.includes(tag)) throw new CodedError(apiMessages.unknownTag(tag, tags), 'invalid_flag');
    const listed = operations
      .filter((operation) => !tag || operation.tag === tag)
      .map(({ operationId, method, path, summary, tag, security }) => ({ operationId, method, path, summary, tag, security }));
    if (listed.length === 0) {
      this.log(apiMessages.noOperations(tag ?? ''));
      return listed;
    }
    this.log(
      table(listed, [
        { header: 'operation', get: (operation) => operation.operationId },
        { header: 'method', get: (operation) => operation.method },
        { header: 'path', get: (operation) => operation.path },
        { header: 'summary', get: (operation) => operation.summary },
      ]),
    );
    this.log(`\n${apiMessages.listFooter}`);
    return listed;
  }

  /** Every generated command's operation, sorted by operationId (the commands are loaded: --list only). */
  private async operations(): Promise<Operation[]> {
    const commands = this.config.commands.filter((command) => command.id.startsWith('api:'));
    const loaded = await Promise.all(commands.map(async (command) => ((await command.load()) as unknown as typeof ApiOperationCommand).operation));
    return loaded.filter((operation): operation is Operation => operation !== undefined).sort((a, b) => a.operationId.localeCompare(b.operationId));
  }
}

/** The operationId a misspelt name most likely meant: same letters ignoring case, else the closest. */
function suggest(name: string, operations: readonly Operation[]): string | undefined {
  const lower = name.toLowerCase();
  const exact = operations.find((operation) => operation.operationId.toLowerCase() === lower);
  if (exact) return exact.operationId;
  let best: { id: string; distance: number } | undefined;
  for (const { operationId } of operations) {
    const distance = editDistance(lower, operationId.toLowerCase());
    if (!best || distance < best.distance) best = { id: operationId, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(name.length / 4)) ? best.id : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}
