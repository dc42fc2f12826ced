// The page all three examples serve, so they look the same; the framework code stays in server.mjs.
import { ago } from './devices.mjs'

const esc = (s) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  )

const ICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%23146356'/%3E%3Cpath d='M9 20c0 3 3 4 7 4s7-1.5 7-4.5S20 15 16 15s-6.5-1-6.5-3.5S12 8 16 8s6 1 6.5 3' fill='none' stroke='%23fff' stroke-width='3' stroke-linecap='round'/%3E%3C/svg%3E"

const CSS = `
:root{--ink:#1b2430;--muted:#5b6675;--line:#e3e7ec;--accent:#146356;--bg:#f6f8fa}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--ink);background:var(--bg)}
main{max-width:36rem;margin:0 auto;padding:1.25rem}
header{display:flex;align-items:center;gap:.6rem;margin:.5rem 0 1.25rem}header img{width:2rem;height:2rem}
h1{font-size:1.3rem;margin:0}h2{font-size:1.05rem;margin:0 0 .75rem}
.card{background:#fff;border:1px solid var(--line);border-radius:.75rem;padding:1rem 1.1rem;margin-bottom:1rem}
.count{font-size:2.5rem;font-weight:700;color:var(--accent);line-height:1}
.muted{color:var(--muted);font-size:.9rem}
.flash{background:#e7f5ef;border-color:#b6e0cd}
form{margin:0}.row{display:flex;gap:.5rem;flex-wrap:wrap;align-items:center}
input{flex:1;min-width:10rem;font:inherit;padding:.55rem .7rem;border:1px solid var(--line);border-radius:.5rem}
button,.button{font:inherit;padding:.55rem 1rem;border-radius:.5rem;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary,.button.secondary{background:#fff;color:var(--accent)}
ul.devices{list-style:none;margin:0;padding:0}ul.devices li{padding:.7rem 0;border-top:1px solid var(--line)}ul.devices li:first-child{border-top:0}
.tag{font-size:.75rem;background:var(--accent);color:#fff;border-radius:1rem;padding:.1rem .5rem;margin-left:.4rem;vertical-align:middle}
`

const layout = ({ title, framework, flash, body }) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · Sessile + ${esc(framework)}</title>
<link rel="icon" href="${ICON}"><style>${CSS}</style></head>
<body><main>
<header><img src="${ICON}" alt=""><h1>Sessile + ${esc(framework)}</h1></header>
${flash ? `<div class="card flash" role="status">${esc(flash)}</div>` : ''}
${body}
</main></body></html>`

/** Confirmations after a redirect, by code: the query string never carries text to show. */
export function flashOf(query) {
  const code = String(query ?? '')
  if (code === 'in') return 'You are logged in. Your session got a new id.'
  if (code === 'out') return 'You are logged out. Your session was deleted.'
  const m = /^others-(\d{1,4})$/.exec(code)
  if (m) return m[1] === '1' ? 'Logged out 1 other device.' : `Logged out ${m[1]} other devices.`
  return ''
}

export function home({ framework, views, user, where, flash }) {
  const account = user
    ? `<div class="card"><h2>Logged in as ${esc(user)}</h2>
       <div class="row"><a class="button" href="/devices">Your devices</a>
       <form method="post" action="/logout"><button class="secondary">Log out</button></form></div></div>`
    : `<div class="card"><h2>Log in</h2>
       <form method="post" action="/login" class="row">
       <input name="user" placeholder="any user name" aria-label="user name" required maxlength="64" autocomplete="username">
       <button>Log in</button></form>
       <p class="muted">Log in with the same name from a second browser (or your phone) to see both devices.</p></div>`
  return layout({
    title: 'Home',
    framework,
    flash,
    body: `<div class="card"><h2>Visits in this session</h2>
     <div class="count" data-testid="views">${views}</div>
     <p class="muted">Refresh to count. Parallel requests never lose a count (serialised mode).</p></div>
     ${account}
     <p class="muted">Sessions are stored in ${esc(where)}, keys hashed with the server secret.</p>`,
  })
}

export function devices({ framework, user, list, flash }) {
  const items = list
    .map(
      (
        d,
      ) => `<li${d.current ? ' data-current' : ''}><b>${esc(d.browser)} on ${esc(d.os)}</b>${d.current ? '<span class="tag">this device</span>' : ''}
       <div class="muted">${esc(d.ip)} · last seen <time datetime="${d.seen.toISOString()}">${esc(ago(d.seen))}</time></div></li>`,
    )
    .join('')
  const others = list.length - list.filter((d) => d.current).length
  return layout({
    title: 'Your devices',
    framework,
    flash,
    body: `<div class="card"><h2>Devices signed in as ${esc(user)}</h2>
     <ul class="devices">${items}</ul></div>
     <div class="row">
     ${others > 0 ? '<form method="post" action="/devices/logout-others"><button>Log out other devices</button></form>' : '<span class="muted">No other device is signed in.</span>'}
     <a class="button secondary" href="/">Back</a></div>`,
  })
}

export function errorPage({ framework, status }) {
  const text =
    status === 503
      ? 'Sessions are unavailable right now (the database does not answer). Try again shortly.'
      : status === 413
        ? 'That was too much data.'
        : 'Something went wrong.'
  return layout({
    title: 'Error',
    framework,
    body: `<div class="card"><h2>${status}</h2><p>${esc(text)}</p><a class="button" href="/">Home</a></div>`,
  })
}
