#!/usr/bin/env node
// Builds the developer documentation site (the guides of docs/, by VitePress) into
// docs/.vitepress/dist, which the platform serves under /developers/; skips the build when a
// digest of everything the site is made of matches the one stamped in the output by the last build.
//
// The stamp (dist/.build-stamp.json, not served) also holds the sha256 hashes of the pages' inline
// scripts, which the server's Content-Security-Policy allows and nothing else inline.
//
// Usage: node scripts/docs-site.mjs [--force]   (npm run docs:build; the root build runs it too)
// DOCS_BASE=/ builds the site for a host of its own (default /developers/, where the platform
// serves it; the platform refuses to serve a site built for another base).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { docsDir, repoRoot, repositoryFiles } from '../docs/.vitepress/site-links.mjs';

const outDir = join(docsDir, '.vitepress', 'dist');
const stampFile = join(outDir, '.build-stamp.json');
const base = process.env.DOCS_BASE || '/developers/';
const force = process.argv.includes('--force');

/** Every file under `dir`, sorted, without VitePress's output and cache. */
function filesUnder(dir) {
  const skip = new Set([join(docsDir, '.vitepress', 'dist'), join(docsDir, '.vitepress', 'cache')]);
  const files = [];
  const walk = (current) => {
    for (const entry of readdirSync(current, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(current, entry.name);
      if (skip.has(path) || entry.name === 'node_modules') continue;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  walk(dir);
  return files;
}

/**
 * What the site is made of: every file of docs/ (pages, config, theme, images), the repository
 * files the guides link to (they get pages), this script, the VitePress version and the base.
 */
function inputsDigest() {
  const hash = createHash('sha256');
  const vitepress = JSON.parse(readFileSync(join(repoRoot, 'node_modules', 'vitepress', 'package.json'), 'utf8')).version;
  hash.update(`vitepress ${vitepress}\nbase ${base}\n`);
  const files = [...filesUnder(docsDir), ...repositoryFiles().map((file) => join(repoRoot, file)), fileURLToPath(import.meta.url)];
  for (const file of files) {
    hash.update(`${relative(repoRoot, file).split(sep).join('/')}\n`);
    hash.update(createHash('sha256').update(readFileSync(file)).digest());
  }
  return { digest: hash.digest('hex'), vitepress, files: files.length };
}

function readStamp() {
  try {
    return JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    return null;
  }
}

/** The sha256 CSP sources of the inline scripts of every page built. */
function inlineScriptHashes() {
  const hashes = new Set();
  for (const file of filesUnder(outDir).filter((path) => path.endsWith('.html'))) {
    const html = readFileSync(file, 'utf8');
    for (const [, attributes, body] of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
      if (/\bsrc\s*=/i.test(attributes) || /\btype\s*=\s*["']?application\/(?:ld\+)?json/i.test(attributes)) continue;
      hashes.add(`'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`);
    }
  }
  return [...hashes].sort();
}

const inputs = inputsDigest();
const stamp = readStamp();
if (!force && stamp?.digest === inputs.digest && existsSync(join(outDir, 'index.html'))) {
  console.log(`docs site: up to date (${relative(repoRoot, outDir)}, base ${base})`);
} else {
  const started = performance.now();
  console.log(`docs site: building ${relative(repoRoot, outDir)} for ${base} (${stamp ? 'its inputs changed' : 'no previous build'})…`);
  const { build } = await import('vitepress');
  await build(docsDir);
  const scriptHashes = inlineScriptHashes();
  writeFileSync(stampFile, `${JSON.stringify({ digest: inputs.digest, base, vitepress: inputs.vitepress, scriptHashes }, null, 2)}\n`);
  console.log(`docs site: built in ${((performance.now() - started) / 1000).toFixed(1)} s (${scriptHashes.length} inline scripts allowed by hash)`);
}
