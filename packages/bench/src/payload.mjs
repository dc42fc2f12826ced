import { randomBytes } from 'node:crypto'

/**
 * A session-shaped JSON object of about `size` bytes: a user, a CSRF token, flags and a cart,
 * with the repetition real sessions have (so compression numbers are not flattered or ruined).
 */
export function sessionData(size) {
  const data = {
    user: { id: 'u-1234567', name: 'Ada Lovelace', roles: ['customer', 'beta'] },
    csrf: randomBytes(16).toString('hex'),
    locale: 'en-GB',
    flags: { darkMode: true, tour: false },
    cart: [],
  }
  let i = 0
  while (Buffer.byteLength(JSON.stringify(data)) < size - 60) {
    data.cart.push({ sku: `SKU-${(i * 7919) % 100000}`, qty: (i % 5) + 1, price: ((i * 37) % 10000) / 100 })
    i++
  }
  return data
}

/** express-session's cookie as its stores see it (what `set` and `touch` receive). */
export function expressCookie(maxAge) {
  return {
    originalMaxAge: maxAge,
    expires: new Date(Date.now() + maxAge).toISOString(),
    secure: false,
    httpOnly: true,
    path: '/',
  }
}
