// The demo's HTML, kept apart from the framework code so server.mjs reads as the integration.
const esc = (s) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  )

const layout = (title, body) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font:16px system-ui;max-width:40rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}
form{display:inline}</style></head><body>${body}</body></html>`

export function home({ framework, views, user, where }) {
  const account = user
    ? `<p>Logged in as <b>${esc(user)}</b>.
       <a href="/devices">Your devices</a>
       <form method="post" action="/logout"><button>Log out</button></form></p>`
    : `<form method="post" action="/login">
       <input name="user" placeholder="any user name" required maxlength="64">
       <button>Log in</button></form>
       <p><small>Log in from two browsers with the same name to see the device list.</small></p>`
  return layout(
    'Sessile demo',
    `<h1>Sessile + ${esc(framework)}</h1>
     <p>You have visited this page <b>${views}</b> time${views === 1 ? '' : 's'}. Refresh to count.</p>
     ${account}
     <p><small>Sessions are stored in ${esc(where)}.</small></p>`,
  )
}

export function devices({ user, rows, currentKey }) {
  const list = rows
    .map(
      (
        r,
      ) => `<tr><td><code>${esc(r.key.slice(0, 8))}…</code>${r.key === currentKey ? ' (this device)' : ''}</td>
       <td>${esc(r.created.toISOString())}</td><td>${esc(r.modified.toISOString())}</td>
       <td>${esc(r.expiry.toISOString())}</td></tr>`,
    )
    .join('')
  return layout(
    'Your devices',
    `<h1>Sessions of ${esc(user)}</h1>
     <table><tr><th>session</th><th>started</th><th>last change</th><th>expires</th></tr>${list}</table>
     <p><form method="post" action="/devices/logout-others"><button>Log out other devices</button></form>
     <a href="/">Back</a></p>`,
  )
}
