#!/usr/bin/env node
// Regenerates every committed generated file and fails when the result differs from what is
// committed: the bundled spec, its TypeScript types, the SDK's API reference (TypeDoc, from its
// TSDoc), the CLI's `mes api` commands (from the spec), the CLI's oclif manifest and its command
// snapshot (commands, flags and --json output shapes: cli/command-snapshot.json), the rules of the State
// design system the pages use (catalog-api/assets/design-system.css).
import { execSync } from 'node:child_process';

const generated = ['openapi/dist', 'docs/reference/sdk', 'cli/src/commands/api', 'cli/oclif.manifest.json', 'cli/command-snapshot.json', 'catalog-api/assets/design-system.css'];
const run = (command) => execSync(command, { stdio: 'inherit' });

run('npm run generate --silent');
// The manifest is read from the built commands: build the ones just generated first.
run('npx tsc -b cli');
// The manifest script also writes the command snapshot.
run('npm run manifest --silent -w @mes/cli');

// --porcelain lists untracked files too: a new operation's command that was never committed.
const changes = execSync(`git status --porcelain -- ${generated.join(' ')}`, { encoding: 'utf8' }).trim();
if (changes) {
  console.error(`\nGenerated files are stale; run "npm run generate", "npx tsc -b cli" and "npm run manifest -w @mes/cli", review the diff, then commit:\n${changes}`);
  execSync(`git --no-pager diff --stat -- ${generated.join(' ')}`, { stdio: 'inherit' });
  process.exit(1);
}
console.log('Generated files are up to date.');
