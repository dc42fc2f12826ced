// Picks the session store: embedded PGlite with no configuration, or the database DATABASE_URL names.
import { fileURLToPath } from 'node:url'

const redact = (url) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')

export async function openStore() {
  const url = process.env.DATABASE_URL
  if (!url) {
    const { pgliteStore } = await import('@sessile/drizzle/pglite')
    const dataDir = fileURLToPath(new URL('./.pglite-data', import.meta.url))
    return { store: pgliteStore({ dataDir }), where: `embedded PGlite (${dataDir})` }
  }
  const { createStore } = await import('@sessile/drizzle')
  return { store: await createStore(url), where: redact(url) }
}
