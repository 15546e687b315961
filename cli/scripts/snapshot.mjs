#!/usr/bin/env node
// The CLI's public surface as one reviewed file, cli/command-snapshot.json: every command with its
// arguments, flags and the shape of what `--json` prints. The shapes come from the TypeScript
// return type of each hand-written command's run() (read with the compiler, so they cannot drift
// from the code) and, for the generated `mes api` commands, from the operation's success response
// in the spec. CI regenerates it and fails when it differs from the committed file (see
// scripts/check-generated.mjs): a change to a command, a flag or an output is then deliberate.
// `--check` only compares.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const cliDir = fileURLToPath(new URL('..', import.meta.url));
const snapshotFile = join(cliDir, 'command-snapshot.json');
const manifest = JSON.parse(readFileSync(join(cliDir, 'oclif.manifest.json'), 'utf8'));
const spec = JSON.parse(readFileSync(join(cliDir, '..', 'openapi', 'dist', 'openapi.json'), 'utf8'));

// --- Output shapes of the hand-written commands, from run()'s return type ----------------------

const configPath = ts.findConfigFile(cliDir, ts.sys.fileExists, 'tsconfig.json');
const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, cliDir);
const program = ts.createProgram({ rootNames: parsed.fileNames, options: { ...parsed.options, noEmit: true } });
const checker = program.getTypeChecker();

/** Named object types, described once under `definitions`. */
const definitions = {};

function shapeOf(type, seen = new Set()) {
  const { flags } = type;
  if (flags & ts.TypeFlags.Any || flags & ts.TypeFlags.Unknown) return { type: 'any' };
  if (flags & ts.TypeFlags.Never) return { type: 'never' };
  if (flags & ts.TypeFlags.Void || flags & ts.TypeFlags.Undefined) return { type: 'undefined' };
  if (flags & ts.TypeFlags.Null) return { type: 'null' };
  if (type.isStringLiteral()) return { const: type.value };
  if (type.isNumberLiteral()) return { const: type.value };
  if (flags & ts.TypeFlags.BooleanLiteral) return { const: checker.typeToString(type) === 'true' };
  if (flags & ts.TypeFlags.StringLike) return { type: 'string' };
  if (flags & ts.TypeFlags.NumberLike) return { type: 'number' };
  if (flags & ts.TypeFlags.BooleanLike) return { type: 'boolean' };
  if (type.isUnion()) {
    const members = type.types.map((member) => shapeOf(member, seen));
    // `true | false` is boolean; a union of literals is an enum.
    if (members.length === 2 && members.every((member) => typeof member.const === 'boolean')) return { type: 'boolean' };
    const booleans = members.filter((member) => typeof member.const === 'boolean');
    const rest = members.filter((member) => typeof member.const !== 'boolean');
    const merged = booleans.length === 2 ? [...rest, { type: 'boolean' }] : members;
    if (merged.every((member) => 'const' in member)) return { enum: merged.map((member) => member.const).sort() };
    return { anyOf: merged.map((member) => JSON.stringify(member)).sort().map((text) => JSON.parse(text)) };
  }
  if (type.isIntersection()) return objectShape(type, seen);
  if (checker.isArrayType(type) || checker.isTupleType(type)) {
    const [item] = checker.getTypeArguments(type);
    return { type: 'array', items: item ? shapeOf(item, seen) : { type: 'any' } };
  }
  if (flags & ts.TypeFlags.Object) return objectShape(type, seen);
  return { type: checker.typeToString(type) };
}

/** `spec:App` for a type that is a schema of the spec (components['schemas']['App'] in @mes/openapi). */
function specSchemaName(type) {
  const literal = type.symbol?.declarations?.[0];
  const member = literal?.parent;
  const schemas = member?.parent?.parent;
  if (literal && ts.isTypeLiteralNode(literal) && member && ts.isPropertySignature(member) && schemas && ts.isPropertySignature(schemas) && schemas.name.getText() === 'schemas') {
    return `spec:${member.name.getText()}`;
  }
  return null;
}

function objectShape(type, seen) {
  const spec = specSchemaName(type);
  const name = spec ?? checker.typeToString(type);
  const named = spec !== null || (/^[A-Z][A-Za-z0-9]*$/.test(name) && !['Promise', 'Record', 'Object'].includes(name));
  if (named && (definitions[name] || seen.has(name))) return { $ref: name };
  const inner = new Set(seen);
  if (named) {
    inner.add(name);
    definitions[name] = { pending: true };
  }
  const properties = {};
  const required = [];
  for (const property of checker.getPropertiesOfType(type)) {
    const declaration = property.valueDeclaration ?? property.declarations?.[0];
    const propertyType = declaration ? checker.getTypeOfSymbolAtLocation(property, declaration) : checker.getTypeOfSymbol(property);
    const optional = (property.flags & ts.SymbolFlags.Optional) !== 0;
    properties[property.name] = shapeOf(optional ? checker.getNonNullableType(propertyType) : propertyType, inner);
    if (!optional) required.push(property.name);
  }
  const shape = { type: 'object', properties, required };
  const index = checker.getIndexInfosOfType(type)[0];
  if (index) shape.additionalProperties = shapeOf(index.type, inner);
  if (!named) return shape;
  definitions[name] = shape;
  return { $ref: name };
}

/** The resolved return type of run() of a command's default export, unwrapped from its Promise. */
function runResultShape(sourceFile) {
  const exported = checker.getSymbolAtLocation(sourceFile);
  const defaultExport = exported && checker.getExportsOfModule(exported).find((symbol) => symbol.name === 'default');
  if (!defaultExport) return null;
  const classSymbol = defaultExport.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(defaultExport) : defaultExport;
  const classType = checker.getDeclaredTypeOfSymbol(classSymbol);
  const run = classType.getProperty('run');
  if (!run) return null;
  const signature = checker.getTypeOfSymbol(run).getCallSignatures()[0];
  const returned = checker.getAwaitedType(signature.getReturnType()) ?? signature.getReturnType();
  return shapeOf(returned);
}

// --- Output shapes of the generated `mes api` commands, from the spec --------------------------

const operations = new Map();
for (const [path, item] of Object.entries(spec.paths)) {
  for (const [method, operation] of Object.entries(item)) {
    if (operation?.operationId) operations.set(operation.operationId, { method, path, operation });
  }
}

function responseShape(operationId) {
  const { operation } = operations.get(operationId) ?? {};
  if (!operation) return null;
  const success = Object.entries(operation.responses ?? {}).filter(([status]) => /^2\d\d$/.test(status));
  return Object.fromEntries(
    success.map(([status, response]) => {
      const resolved = response.$ref ? spec.components.responses[response.$ref.split('/').pop()] : response;
      const contents = Object.entries(resolved.content ?? {}).map(([type, media]) => [type, media.schema?.$ref ? { $ref: media.schema.$ref.replace('#/components/schemas/', 'spec:') } : media.schema ? { inline: true } : {}]);
      return [status, contents.length ? Object.fromEntries(contents) : 'no content'];
    }),
  );
}

// --- The snapshot ---------------------------------------------------------------------------------

const flagShape = (flag) => ({
  type: flag.type,
  ...(flag.char ? { char: flag.char } : {}),
  ...(flag.required ? { required: true } : {}),
  ...(flag.multiple ? { multiple: true } : {}),
  ...(flag.options ? { options: flag.options } : {}),
  ...(flag.default !== undefined ? { default: flag.default } : {}),
  ...(flag.env ? { env: flag.env } : {}),
  ...(flag.exclusive?.length ? { exclusive: flag.exclusive } : {}),
});

const commands = {};
for (const [id, command] of Object.entries(manifest.commands).sort(([a], [b]) => a.localeCompare(b))) {
  const file = join(cliDir, 'src', 'commands', `${id.replace(/:/g, '/')}.ts`);
  const indexFile = join(cliDir, 'src', 'commands', id.replace(/:/g, '/'), 'index.ts');
  const sourceFile = program.getSourceFile(file) ?? program.getSourceFile(indexFile);
  const operationId = id.startsWith('api:') ? id.slice(4) : null;
  commands[id.replace(/:/g, ' ')] = {
    args: Object.fromEntries(Object.entries(command.args ?? {}).map(([name, arg]) => [name, { ...(arg.required ? { required: true } : {}), ...(arg.options ? { options: arg.options } : {}) }])),
    flags: Object.fromEntries(Object.entries(command.flags ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([name, flag]) => [name, flagShape(flag)])),
    json: operationId ? { response: responseShape(operationId) } : sourceFile ? runResultShape(sourceFile) : null,
  };
}

const sortedDefinitions = Object.fromEntries(Object.entries(definitions).sort(([a], [b]) => a.localeCompare(b)));
const text = `${JSON.stringify({ commands, definitions: sortedDefinitions }, null, 2)}\n`;
if (process.argv.includes('--check')) {
  const committed = readFileSync(snapshotFile, 'utf8');
  if (committed !== text) {
    console.error('cli/command-snapshot.json is stale: a command, a flag or a --json output changed. Run "npm run snapshot -w @mes/cli" and review the diff.');
    process.exit(1);
  }
  console.log('cli/command-snapshot.json is up to date.');
} else {
  writeFileSync(snapshotFile, text);
  console.log(`wrote cli/command-snapshot.json (${Object.keys(commands).length} commands, ${Object.keys(sortedDefinitions).length} definitions)`);
}
