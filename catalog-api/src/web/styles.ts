// The one stylesheet of the platform's pages, served from the platform's own origin (the pages'
// Content-Security-Policy allows no other), cached for a year (immutable) and named by its hash in
// the pages so a new version is fetched at once: the State design system's rules the pages use
// (design-system.ts), then the few of the platform's own, written with the design system's
// colours and spacing: an app's logo beside its name, lists of cards, rows of actions, a table
// that becomes a list on a phone, and the header's menu kept open on small screens (the design
// system opens it with a script, and these pages have none).
import { createHash } from 'node:crypto';
import { DSFR_STYLESHEET } from './design-system.js';

const OWN_RULES = `
.mes-main{padding-top:1.5rem;padding-bottom:3.5rem}
.mes-main:focus{outline:none}
.muted{color:var(--text-mention-grey)}
ul.cards{list-style:none;padding:0;margin:0 0 2rem;display:grid;gap:1.5rem}
ul.cards>li{padding-bottom:0}
.mes-card .fr-card__content{padding:1.5rem 1.5rem 1rem}
.mes-card .fr-card__content>:last-child{margin-bottom:0}
.mes-card form{margin:0}
section.mes-card,div.mes-card{margin-bottom:1.5rem}
.app-head{display:flex;gap:1rem;align-items:flex-start}
.app-head>div>:last-child{margin-bottom:.5rem}
.app-head img,.logo-placeholder{width:4rem;height:4rem;border-radius:.75rem;flex:none;box-shadow:inset 0 0 0 1px var(--border-default-grey)}
.app-head img{object-fit:cover}
.logo-placeholder{background:var(--background-alt-blue-france);color:var(--text-title-blue-france);display:flex;align-items:center;justify-content:center;font-weight:700;font-size:1.5rem}
.actions{display:flex;flex-wrap:wrap;gap:1rem 1.5rem;align-items:center;margin:1.5rem 0}
.actions form{margin:0}
.filters{display:flex;flex-wrap:wrap;gap:0 1.5rem;align-items:flex-end;margin-bottom:1.5rem}
.filters>*{margin-bottom:1rem}
.filters .fr-input-group,.filters .fr-select-group{margin-bottom:1rem}
.fr-alert{margin-bottom:1.5rem}
.fr-alert form{margin-top:.75rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1.5rem;margin:0 0 1.5rem}
dl.facts dt{font-weight:700}
dl.facts dd{margin:0}
/* Placeholders in the regular face: the italic one would be a fourth font file for one example. */
.fr-input::placeholder{font-style:normal}
.mes-account{display:inline-flex;align-items:center;gap:.5rem;min-height:2.5rem;padding:0 .75rem;font-size:.875rem;line-height:1.5rem}
.mes-account:before{--icon-size:1rem}
.fr-table table.stack caption{text-align:left}
@media (max-width:61.98em){
.fr-header__tools-links{display:flex;flex-wrap:wrap;gap:0 .5rem;justify-content:flex-start;padding:0 1rem .5rem}
.fr-header__tools-links .fr-btns-group{display:flex;flex-wrap:wrap;align-items:center;margin:0}
.fr-header__tools-links .fr-btns-group>li{width:auto}
.fr-header__tools-links .fr-btns-group .fr-btn{margin:0;width:auto}
.fr-header__body-row{flex-wrap:wrap}
.fr-header__brand{flex-basis:100%;box-shadow:none}
.fr-header__tools{display:block;flex-basis:100%}
.mes-menu .fr-nav__list{margin-bottom:.5rem}
}
@media (max-width:47.98em){
dl.facts{grid-template-columns:1fr}dl.facts dd{margin:0 0 .5rem}
table.stack,table.stack caption,table.stack tbody,table.stack tr,table.stack td{display:block}
table.stack thead{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}
table.stack tr{border-bottom:1px solid var(--border-default-grey);padding:.5rem 0}
table.stack td{border:0;padding:.1rem .5rem;background:none}
table.stack td::before{content:attr(data-label) " ";font-weight:700}
}
`.trim();

export const STYLESHEET = `${DSFR_STYLESHEET}\n${OWN_RULES}`;

export const STYLESHEET_VERSION = createHash('sha256').update(STYLESHEET).digest('base64url').slice(0, 12);

/** Where pages link the stylesheet: the version in the query names this content. */
export const STYLESHEET_HREF = `/assets/site.css?v=${STYLESHEET_VERSION}`;
