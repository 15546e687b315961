// The guides' links to files that are not guides, on the site. A link to a file of the repository
// outside docs/ (`../cluster/README.md`, `../sdk/examples/`) is rewritten to that file's page under
// /repository/, which the site builds from the file itself; a link to a file of docs/ that is not a
// page (a screenshot) keeps its path, and the file is copied next to the pages. Plain JavaScript:
// scripts/docs-site.mjs reads the same list of files to know when the site must be rebuilt.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const docsDir = fileURLToPath(new URL('..', import.meta.url));
export const repoRoot = resolve(docsDir, '..');

/** Where the repository's pages live on the site (docs/repository/[file].md). */
const PAGES = 'repository';

const toPosix = (path) => path.split(sep).join('/');
const isExternal = (href) => /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i.test(href);

/** Markdown files of the site (the guides), relative to docs/, without the repository's pages. */
export function guideFiles(dir = docsDir, base = '') {
  const files = [];
  for (const entry of readdirSorted(dir)) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.') || (base === '' && entry.name === PAGES)) continue;
    const path = base ? `${base}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...guideFiles(join(dir, entry.name), path));
    else if (entry.name.endsWith('.md')) files.push(path);
  }
  return files;
}

function readdirSorted(dir) {
  return readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
}

/** Whether a link's target is served as a page (Markdown or a folder) rather than as a file. */
const isPage = (path) => path.endsWith('/') || extname(path) === '' || extname(path) === '.md' || extname(path) === '.html';

/**
 * What a relative link of `from` (a file of the repository, relative to its root) points at: a
 * file of the repository relative to its root (a folder's link goes to its README.md), or null
 * for links that are not relative paths. Throws when the target is outside the repository or
 * does not exist, so that such a link fails the build like a dead link.
 */
export function linkTarget(from, href) {
  if (!href || href.startsWith('#') || href.startsWith('/') || isExternal(href)) return null;
  const path = decodeURI(href.replace(/[?#].*$/, ''));
  if (!path) return null;
  const absolute = resolve(repoRoot, dirname(from), path);
  const target = toPosix(relative(repoRoot, absolute));
  if (target.startsWith('..') || target === '') throw new Error(`${from}: the link "${href}" leads outside the repository`);
  if (!existsSync(absolute)) throw new Error(`${from}: the link "${href}" leads to ${target}, which does not exist`);
  if (statSync(absolute).isDirectory()) {
    if (!existsSync(join(absolute, 'README.md'))) throw new Error(`${from}: the link "${href}" leads to the folder ${target}/, which has no README.md to show`);
    return `${target}/README.md`;
  }
  return target;
}

/** Whether a file of the repository (relative to its root) is inside docs/. */
const inDocs = (path) => path.startsWith('docs/');

/** The site path of a repository file's page: `repository/cluster/README.md`, `repository/cluster/haproxy.cfg.md`. */
export const repositoryPage = (file) => `${PAGES}/${file.endsWith('.md') ? file : `${file}.md`}`;

/** The relative links of a Markdown text, its code blocks and code spans left out. */
function markdownLinks(text) {
  const prose = text.replace(/^(```+|~~~+)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '').replace(/(`+)[^`\n][\s\S]*?\1/g, '');
  return [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+["'][^"']*["'])?\s*\)/g)].map((match) => match[1]);
}

/**
 * The files outside docs/ that the guides link to, relative to the repository's root: each gets a
 * page of its own. The pages' own links are not followed further: the site shows what the guides
 * point at, not the whole repository.
 */
export function repositoryFiles() {
  const files = new Set();
  for (const guide of guideFiles()) {
    const from = `docs/${guide}`;
    for (const href of markdownLinks(readFileSync(join(docsDir, guide), 'utf8'))) {
      const target = linkTarget(from, href);
      if (target && !inDocs(target)) files.add(target);
    }
  }
  return [...files].sort();
}

const languages = { '.ts': 'ts', '.mts': 'ts', '.js': 'js', '.mjs': 'js', '.json': 'json', '.yaml': 'yaml', '.yml': 'yaml', '.sh': 'sh', '.sql': 'sql', '.html': 'html' };

/** The Markdown of a repository file's page: a Markdown file as it is, any other file as a code block. */
export function repositoryPageContent(file) {
  const text = readFileSync(join(repoRoot, file), 'utf8');
  const note = `*This page shows the file \`${file}\` of the platform's repository. Its links to other files of the repository that are not on this site show their path.*\n\n`;
  if (file.endsWith('.md')) {
    // The note goes under the file's own title.
    const title = /^# .*\n/m.exec(text);
    return title ? `${text.slice(0, title.index + title[0].length)}\n${note}${text.slice(title.index + title[0].length)}` : `${note}${text}`;
  }
  const fence = '`'.repeat(Math.max(3, ...[...text.matchAll(/`{3,}/g)].map((m) => m[0].length + 1)));
  return `# ${posix.basename(file)}\n\n${note}${fence}${languages[extname(file)] ?? 'txt'}\n${text.replace(/\n?$/, '\n')}${fence}\n`;
}

/**
 * A markdown-it plugin that rewrites the relative links of every page, guides and repository
 * pages alike, before VitePress's own link handling (which then adds the base, turns `.md` into
 * `.html` and checks that the page exists):
 * - to a page of docs/: kept (from a repository page, made absolute from the site's root);
 * - to a file of docs/ that is not a page: kept, and the file recorded in `assets` to be copied;
 * - to a file outside docs/ with a page: to that page;
 * - to a file outside docs/ without one (only repository pages link there): the link's text and
 *   the file's path in the repository, not a link.
 */
export function siteLinks(md, { pages, assets }) {
  md.core.ruler.push('site_links', (state) => {
    const relativePath = state.env.relativePath;
    if (!relativePath) return;
    const page = relativePath.startsWith(`${PAGES}/`) ? pages.find((file) => repositoryPage(file) === relativePath) : undefined;
    const from = page ?? `docs/${relativePath}`;
    for (const block of state.tokens) {
      if (block.type !== 'inline' || !block.children) continue;
      const children = block.children;
      for (let i = 0; i < children.length; i++) {
        const token = children[i];
        if (token.type !== 'link_open') continue;
        const href = token.attrGet('href') ?? '';
        const target = linkTarget(from, href);
        if (!target) continue;
        const hash = href.includes('#') ? href.slice(href.indexOf('#')) : '';
        if (inDocs(target)) {
          const sitePath = target.slice('docs/'.length);
          if (!isPage(sitePath)) assets.add(sitePath);
          if (page) token.attrSet('href', `/${sitePath}${hash}`);
        } else if (pages.includes(target)) {
          token.attrSet('href', `/${repositoryPage(target)}${hash}`);
        } else {
          // Not a link any more: the file's path in the repository, in code, after the link's
          // text (or instead of it when the text was the link's own path).
          let depth = 0;
          let close = i + 1;
          for (; close < children.length; close++) {
            if (children[close].type === 'link_open') depth++;
            if (children[close].type === 'link_close' && depth-- === 0) break;
          }
          const shown = href.replace(/[?#].*$/, '').endsWith('/') ? `${posix.dirname(target)}/` : target;
          const path = new state.Token('code_inline', 'code', 0);
          path.content = shown;
          const text = children.slice(i + 1, close).map((child) => child.content).join('');
          if (text === href || text === shown) {
            children.splice(i, close - i + 1, path);
          } else {
            const open = new state.Token('text', '', 0);
            open.content = ' (';
            const end = new state.Token('text', '', 0);
            end.content = ')';
            children.splice(close, 1, open, path, end);
            children.splice(i, 1);
            i--;
          }
        }
      }
    }
  });
}
