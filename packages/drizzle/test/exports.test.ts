import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describeBuiltExports } from '@sessile/core/testing'
import { expect, it } from 'vitest'

const dir = fileURLToPath(new URL('..', import.meta.url))
describeBuiltExports(dir)

/** Static imports of a built file and, recursively, of the local chunks it imports. */
function staticImports(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return []
  seen.add(file)
  const code = readFileSync(new URL(`../dist/${file}`, import.meta.url), 'utf8')
  const specs = [...code.matchAll(/^import\s[^;]*?from\s+"([^"]+)"|^import\s+"([^"]+)"/gm)].map(
    (m) => m[1] ?? m[2],
  )
  return specs.flatMap((s) => (s?.startsWith('./') ? staticImports(s.slice(2), seen) : [s as string]))
}

it('the main entry imports no driver until a URL asks for one', () => {
  const imports = staticImports('index.js')
  expect(imports).toContain('@sessile/core')
  for (const driver of ['postgres', 'mysql2', '@electric-sql/pglite', 'better-sqlite3', '@libsql/client']) {
    expect(imports).not.toContain(driver)
  }
})

it('each dialect entry imports only its own driver', () => {
  expect(staticImports('pg.js')).toContain('postgres')
  expect(staticImports('pg.js')).not.toContain('mysql2')
  expect(staticImports('mysql.js')).toContain('mysql2')
  expect(staticImports('mysql.js')).not.toContain('postgres')
  expect(staticImports('pglite.js')).toContain('@electric-sql/pglite')
  expect(staticImports('pglite.js')).not.toContain('postgres')
})

it('the sqlite entry loads its two optional drivers only when it opens a database with one', () => {
  const imports = staticImports('sqlite.js')
  for (const driver of ['better-sqlite3', '@libsql/client', 'postgres', 'mysql2', '@electric-sql/pglite']) {
    expect(imports).not.toContain(driver)
  }
  const code = readFileSync(new URL('../dist/sqlite.js', import.meta.url), 'utf8')
  expect(code).toContain('import("better-sqlite3")')
  expect(code).toContain('import("@libsql/client")')
})
