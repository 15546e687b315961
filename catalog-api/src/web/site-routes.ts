// What every page shares: the stylesheet and the language switch.
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import { negotiate } from '@fastify/accept-negotiator';
import type { HandlerMap } from '../core/operations.js';
import { languageCookie } from './i18n.js';
import { safeReturnPath, seeOther } from './layout.js';
import { STYLESHEET } from './styles.js';

type SiteOperations = 'getStylesheet' | 'switchLanguage';

type Encoding = 'br' | 'gzip' | 'identity';

/**
 * The stylesheet in each encoding, compressed once, on the first request that accepts it (the
 * design system makes it some 400 kB; about 50 kB compressed).
 */
const encoded = new Map<Encoding, Buffer>();
function stylesheetIn(encoding: Encoding): Buffer {
  let body = encoded.get(encoding);
  if (!body) {
    const plain = Buffer.from(STYLESHEET);
    body =
      encoding === 'br'
        ? brotliCompressSync(plain, { params: { [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT, [zlib.BROTLI_PARAM_QUALITY]: 9, [zlib.BROTLI_PARAM_SIZE_HINT]: plain.length } })
        : encoding === 'gzip'
          ? gzipSync(plain, { level: 9 })
          : plain;
    encoded.set(encoding, body);
  }
  return body;
}

export function siteHandlers(options: { secureCookies: boolean }): HandlerMap<SiteOperations> {
  return {
    async getStylesheet({ request }) {
      // What the browser accepts (q-values and `identity;q=0` included); the smallest first.
      const encoding = negotiate<Encoding>(request.headers['accept-encoding'] ?? 'identity', ['br', 'gzip', 'identity']) ?? 'identity';
      return {
        status: 200,
        headers: {
          'content-type': 'text/css; charset=utf-8',
          'cache-control': 'public, max-age=31536000, immutable',
          'x-content-type-options': 'nosniff',
          vary: 'Accept-Encoding',
          ...(encoding === 'identity' ? {} : { 'content-encoding': encoding }),
        },
        body: stylesheetIn(encoding),
      };
    },

    async switchLanguage({ query }) {
      return seeOther(safeReturnPath(query.return_to, '/catalogue'), { 'set-cookie': languageCookie(query.lang, options.secureCookies) });
    },
  };
}
