// What every page shares: the stylesheet and the language switch.
import type { HandlerMap } from '../core/operations.js';
import { languageCookie } from './i18n.js';
import { safeReturnPath, seeOther } from './layout.js';
import { STYLESHEET } from './styles.js';

type SiteOperations = 'getStylesheet' | 'switchLanguage';

export function siteHandlers(options: { secureCookies: boolean }): HandlerMap<SiteOperations> {
  return {
    async getStylesheet() {
      return {
        status: 200,
        headers: {
          'content-type': 'text/css; charset=utf-8',
          'cache-control': 'public, max-age=31536000, immutable',
          'x-content-type-options': 'nosniff',
        },
        body: STYLESHEET,
      };
    },

    async switchLanguage({ query }) {
      return seeOther(safeReturnPath(query.return_to, '/catalogue'), { 'set-cookie': languageCookie(query.lang, options.secureCookies) });
    },
  };
}
