// The static side of a generated `mes api <operationId>` command: its flags, description and
// examples, built from the operation's data when the command's file is loaded.
import { Flags, type Command, type Interfaces } from '@oclif/core';
import { apiMessages } from './messages.js';
import type { BodyField, Operation, OperationParameter } from './operation.js';

export const defaultTimeoutSeconds = 30;

/** One flag per parameter, then --body/--field when the operation takes a body, and --timeout. */
export function operationFlags(operation: Operation): Interfaces.FlagInput {
  const flags: Interfaces.FlagInput = {};
  for (const parameter of operation.parameters) flags[parameter.flag] = parameterFlag(parameter);
  const { body } = operation;
  if (body) {
    const form = body.kind === 'form';
    flags.body = Flags.string({
      summary: body.kind === 'raw' ? apiMessages.rawBodySummary : form ? apiMessages.formBodySummary : apiMessages.bodySummary,
      helpValue: '<file|->',
      helpGroup: 'BODY',
    });
    if (body.kind !== 'raw') {
      flags.field = Flags.string({
        summary: form ? apiMessages.formFieldSummary : apiMessages.fieldSummary,
        multiple: true,
        helpValue: '<name=value>',
        helpGroup: 'BODY',
      });
    }
  }
  flags.timeout = Flags.integer({ summary: apiMessages.timeoutSummary, default: defaultTimeoutSeconds, min: 1, helpGroup: 'GLOBAL' });
  return flags;
}

function parameterFlag(parameter: OperationParameter) {
  const description = parameter.description ?? '';
  const renamed = parameter.flag !== parameter.name ? ` (${parameter.name})` : '';
  const common = {
    summary: `${description ? `${description}${renamed}` : `The ${parameter.name} ${parameter.in} parameter.`}${parameter.array ? ' Repeatable.' : ''}`,
    required: parameter.required,
    helpGroup: parameter.in.toUpperCase(),
  };
  const options = parameter.enum ? [...parameter.enum] : parameter.type === 'boolean' ? ['true', 'false'] : undefined;
  if (options) return parameter.array ? Flags.string({ ...common, options, multiple: true }) : Flags.string({ ...common, options });
  if (parameter.type === 'integer') return parameter.array ? Flags.integer({ ...common, multiple: true }) : Flags.integer(common);
  const helpValue = `<${parameter.format ?? parameter.type}>`;
  if (parameter.type === 'number') {
    const parse = async (input: string) => {
      if (input.trim() === '' || !Number.isFinite(Number(input))) throw new Error(apiMessages.badNumber(input));
      return input;
    };
    return parameter.array ? Flags.string({ ...common, helpValue, parse, multiple: true }) : Flags.string({ ...common, helpValue, parse });
  }
  return parameter.array ? Flags.string({ ...common, helpValue, multiple: true }) : Flags.string({ ...common, helpValue });
}

/** What the command does, how it authenticates, its body fields, its output and its exit codes. */
export function operationDescription(operation: Operation): string {
  const parts: string[] = [];
  if (operation.description) parts.push(operation.description);
  parts.push(`${operation.method} ${operation.path}${operation.tag ? ` (${operation.tag})` : ''}.\n${authentication(operation)}`);
  const { body } = operation;
  if (body) {
    if (body.kind === 'raw') parts.push(apiMessages.rawBodyHeader(body.contentType, body.required));
    else parts.push([apiMessages.bodyHeader(body.contentType, body.required, body.kind === 'form'), ...body.fields.map(fieldLine)].join('\n'));
  }
  parts.push(apiMessages.output, apiMessages.exitCodes);
  return parts.join('\n\n');
}

function authentication(operation: Operation): string {
  if (operation.security.length === 0) return apiMessages.authPublic;
  if (operation.auth === 'apiKey') return apiMessages.authApiKey(operation.security);
  if (operation.auth === 'sandboxToken') return apiMessages.authSandboxToken(operation.security);
  return apiMessages.authNone(operation.security);
}

function fieldLine(field: BodyField): string {
  const type = field.type === 'array' ? `array of ${field.items ?? 'string'}` : field.type;
  const values = field.enum ? `: ${field.enum.join(' | ')}` : '';
  return `- ${field.name} (${type}${field.required ? ', required' : ''}${values})${field.description ? ` ${field.description}` : ''}`;
}

/** A shell word: quoted when it has anything the shell would act on. */
function shellWord(word: string): string {
  return /[\s'"\\$`!*?#&;|<>(){}[\]~]/.test(word) ? `'${word.replaceAll("'", "'\\''")}'` : word;
}

function sampleValue(parameter: OperationParameter): string {
  if (parameter.enum?.length) return parameter.enum[0]!;
  if (parameter.type === 'integer' || parameter.type === 'number') return '10';
  if (parameter.type === 'boolean') return 'true';
  // A shell variable says "your value here" and stays valid shell.
  return `"$${parameter.flag.replaceAll('-', '_').toUpperCase()}"`;
}

function sampleField(field: BodyField): string {
  const value =
    field.example !== undefined
      ? String(field.example)
      : field.enum?.length
        ? field.enum[0]!
        : field.type === 'integer' || field.type === 'number'
          ? '1'
          : field.type === 'boolean'
            ? 'true'
            : field.type === 'array'
              ? '["…"]'
              : field.type === 'object'
                ? '{"…": "…"}'
                : '…';
  return shellWord(`${field.name}=${value}`);
}

export function operationExamples(operation: Operation): Command.Example[] {
  const command = `<%= config.bin %> <%= command.id %>`;
  const required = operation.parameters.filter((parameter) => parameter.required).map((parameter) => `--${parameter.flag} ${sampleValue(parameter)}`);
  const call = [command, ...required].join(' ');
  const { body } = operation;
  if (!body) {
    const optional = operation.parameters.find((parameter) => !parameter.required && parameter.in === 'query');
    return [call, `${call}${optional ? ` --${optional.flag} ${sampleValue(optional)}` : ''} --json`];
  }
  if (body.kind === 'raw') return [`${call} --body file`, `cat file | ${call} --body - --json`];
  const file = body.kind === 'form' ? 'form.json' : 'body.json';
  const field = body.fields.find((candidate) => candidate.required) ?? body.fields[0];
  return [
    `${call} --body ${file}`,
    `cat ${file} | ${call} --body - --json`,
    ...(field ? [`${call}${body.required && body.fields.length > 1 ? ` --body ${file}` : ''} --field ${sampleField(field)} --json`] : []),
  ];
}
