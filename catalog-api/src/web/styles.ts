// The one stylesheet of the platform's pages, served from the platform's own origin (the pages'
// Content-Security-Policy allows no other), cached for a year (immutable) and named by its hash in
// the pages so a new version is fetched at once. Small on purpose: system fonts, no images, no framework;
// large text and touch targets, visible focus, colours with at least 4.5:1 contrast, one column
// that fits a 360 px screen.
import { createHash } from 'node:crypto';

export const STYLESHEET = `
:root{--ink:#1b1b1f;--muted:#4a4a55;--line:#c8c8d0;--paper:#fff;--soft:#f3f4f7;--brand:#00308f;--brand-ink:#fff;--ok:#0b6b2e;--warn:#8a3b00;--warn-bg:#fff4e5;--danger:#a10d24;--focus:#ffbf47}
*{box-sizing:border-box}
html{font-size:112.5%;-webkit-text-size-adjust:100%}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;line-height:1.5;color:var(--ink);background:var(--paper)}
a{color:var(--brand);text-underline-offset:.15em}
a:hover{text-decoration-thickness:.15em}
:focus-visible,input:focus,select:focus,input:focus-within{outline:3px solid var(--focus);outline-offset:2px;box-shadow:0 0 0 5px var(--ink)}
.skip{position:absolute;left:-999px;top:0;background:var(--paper);padding:.5rem 1rem;z-index:10}
.skip:focus{left:.5rem;top:.5rem}
header.site{background:var(--brand);color:var(--brand-ink)}
header.site a,header.site .link{color:var(--brand-ink)}
.bar{max-width:52rem;margin:0 auto;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center;justify-content:space-between}
.brand{font-weight:700;text-decoration:none;font-size:1.05rem}
nav.main ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:0 1rem}
nav.main a{display:inline-block;padding:.5rem 0;min-height:44px}
nav.main a[aria-current=page]{font-weight:700;text-decoration-thickness:.2em}
.account{display:flex;flex-wrap:wrap;gap:.25rem .75rem;align-items:center;font-size:.9rem}
.account form{margin:0}
.link{background:none;border:0;padding:.5rem 0;font:inherit;text-decoration:underline;cursor:pointer;min-height:44px}
.sandbox{background:var(--warn-bg);color:var(--warn);text-align:center;padding:.25rem 1rem;font-size:.85rem;margin:0}
main{max-width:52rem;margin:0 auto;padding:1rem 1rem 3rem}
h1{font-size:1.6rem;line-height:1.25;margin:.75rem 0 1rem}
h2{font-size:1.25rem;margin:2rem 0 .75rem}
h3{font-size:1.1rem;margin:0 0 .5rem}
p,ul,ol,fieldset{margin:0 0 1rem}
.muted{color:var(--muted)}
.card{border:1px solid var(--line);border-radius:.5rem;padding:1rem;margin:0 0 1rem;background:var(--paper)}
ul.cards{list-style:none;padding:0}
.app-head{display:flex;gap:1rem;align-items:flex-start}
.app-head img{width:64px;height:64px;border-radius:.75rem;border:1px solid var(--line);flex:none;object-fit:cover}
.logo-placeholder{width:64px;height:64px;border-radius:.75rem;background:var(--soft);border:1px solid var(--line);display:flex;align-items:center;justify-content:center;font-weight:700;font-size:1.5rem;color:var(--muted);flex:none}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:1rem;font-size:.85rem;font-weight:600;border:1px solid currentColor}
.badge.ok{color:var(--ok)}
.badge.warn{color:var(--warn)}
.badge.danger{color:var(--danger)}
.notice{border-left:.35rem solid var(--brand);background:var(--soft);padding:.75rem 1rem;margin:0 0 1rem}
.notice.warn{border-color:var(--warn);background:var(--warn-bg)}
.notice.error{border-color:var(--danger);background:#fdecee}
.notice form{margin:.5rem 0 0}
button,.button{display:inline-block;font:inherit;font-weight:600;min-height:44px;padding:.5rem 1.1rem;border-radius:.4rem;border:2px solid var(--brand);background:var(--brand);color:var(--brand-ink);cursor:pointer;text-decoration:none}
button.secondary,.button.secondary{background:var(--paper);color:var(--brand)}
button.danger{background:var(--paper);color:var(--danger);border-color:var(--danger)}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;margin:1.5rem 0 1rem}
.actions form{margin:0}
fieldset{border:1px solid var(--line);border-radius:.5rem;padding:.75rem 1rem}
legend{font-weight:700;padding:0 .25rem}
.choice{display:flex;gap:.6rem;align-items:flex-start;padding:.4rem 0}
.choice input{width:1.35rem;height:1.35rem;margin:.15rem 0 0;flex:none}
.choice .why{display:block;color:var(--muted);font-size:.9rem}
label{cursor:pointer}
input[type=search],input[type=text],input[type=date],select{font:inherit;padding:.45rem .6rem;min-height:44px;border:2px solid var(--muted);border-radius:.35rem;max-width:100%;background:var(--paper);color:var(--ink)}
.field{margin:0 0 1rem}
.field label{display:block;font-weight:600;margin:0 0 .25rem}
.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end}
.filters .field{margin:0}
table{border-collapse:collapse;width:100%;font-size:.95rem}
th,td{text-align:left;padding:.5rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--soft)}
.table-wrap{overflow-x:auto}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0 0 1rem}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0}
footer.site{border-top:1px solid var(--line);color:var(--muted);font-size:.85rem}
footer.site p{max-width:52rem;margin:0 auto;padding:1rem}
@media (max-width:30rem){html{font-size:106.25%}dl.facts{grid-template-columns:1fr}dl.facts dd{margin:0 0 .5rem}th,td{padding:.4rem .3rem}}
.notice h2{font-size:1.1rem;margin:0 0 .5rem}
table.stack caption{text-align:left;font-weight:600;padding:0 0 .5rem}
@media (max-width:40rem){table.stack,table.stack caption,table.stack tbody,table.stack tr,table.stack td{display:block}table.stack thead{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}table.stack tr{border-bottom:1px solid var(--line);padding:.5rem 0}table.stack td{border:0;padding:.1rem 0}table.stack td::before{content:attr(data-label) " ";font-weight:600}}
`.trim();

export const STYLESHEET_VERSION = createHash('sha256').update(STYLESHEET).digest('base64url').slice(0, 12);

/** Where pages link the stylesheet: the version in the query names this content. */
export const STYLESHEET_HREF = `/assets/site.css?v=${STYLESHEET_VERSION}`;
