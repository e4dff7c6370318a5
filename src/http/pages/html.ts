/**
 * Server-rendered pages: one layout, escaped text only, and the headers every page gets — a
 * Content-Security-Policy that allows nothing but the page's own nonce-tagged style and forms
 * posting back to this origin, no referrer (a page's URL may carry a token), no caching, no framing.
 * Pages work without JavaScript.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { escapeHtml } from '../../mail/templates/escape';

/** Markup built by these helpers; plain strings passed to them are escaped. */
export class Html {
  constructor(readonly markup: string) {}
}

/** A template tag: interpolated strings are escaped, Html values and arrays of them are kept. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new Html(out);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

const STYLE = `
body.wide main{max-width:72rem;margin:1.5rem auto}
nav.console{background:#1d2330;color:#fff;display:flex;align-items:center;gap:1.2rem;padding:.6rem 1.5rem}
nav.console a{color:#fff;text-decoration:none}
nav.console .who{margin-left:auto;font-size:.9rem}
nav.console form{margin:0}
nav.console button{margin:0;padding:.3rem .8rem;background:#3a4356}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.45rem .5rem;border-bottom:1px solid #e4e7ec;vertical-align:top}
th{background:#f0f2f5;font-weight:600}
.tabs{display:flex;gap:.4rem;margin:0 0 1rem;padding:0;list-style:none;border-bottom:2px solid #dde1e7}
.tabs a{display:block;padding:.4rem .9rem;text-decoration:none;color:#2456d6;border-radius:4px 4px 0 0}
.tabs a[aria-current=page]{background:#2456d6;color:#fff}
form.filters{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end;margin-bottom:1rem}
form.filters label{margin:0}
select,input[type=email],input[type=search]{padding:.45rem;border:1px solid #b9c0cc;border-radius:4px;font:inherit}
form.filters button,.inline button{margin-top:0}
.inline{display:flex;gap:.5rem;align-items:center;margin:.6rem 0}
.pager{display:flex;gap:1rem;margin-top:1rem}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:999px;background:#e8ecf4;font-size:.85rem}
.notice{border-left:4px solid #2456d6;padding-left:1rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}
dl.facts dt{font-weight:600}
section{margin-top:1.8rem}
h2{font-size:1.1rem}
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
main{max-width:34rem;margin:3rem auto;background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:2rem}
h1{font-size:1.4rem;margin-top:0}
label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input[type=text],input[type=email]{width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #b9c0cc;border-radius:4px;font:inherit}
button{margin-top:1.2rem;padding:.6rem 1.2rem;border:0;border-radius:4px;background:#2456d6;color:#fff;font:inherit;cursor:pointer}
.muted{color:#5b6474;font-size:.9rem}
.problem{border-left:4px solid #c62828;padding-left:1rem}
`;

/** How a page is laid out: the narrow card (default), or a wide page under a navigation bar. */
export interface PageLayout {
  wide?: boolean;
  nav?: Html;
  /** Reload the page every this many seconds (live progress without JavaScript). */
  refreshSeconds?: number;
}

/** Sends a whole page with the page headers. */
export function sendPage(reply: FastifyReply, status: number, title: string, body: Html, layout: PageLayout = {}): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · tenure</title>
${layout.refreshSeconds ? html`<meta http-equiv="refresh" content="${layout.refreshSeconds}">` : ''}
<style nonce="${nonce}">${new Html(STYLE)}</style>
</head>
<body${layout.wide ? new Html(' class="wide"') : ''}>${layout.nav ?? ''}<main>
${body}
</main></body>
</html>
`;
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', `default-src 'none'; style-src 'nonce-${nonce}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`)
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .send(page.markup);
}
