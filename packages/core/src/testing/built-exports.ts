import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

type Conditions = string | { [condition: string]: Conditions }

function pick(entry: Conditions, condition: string): string | undefined {
  if (typeof entry === 'string') return entry
  const v = entry[condition]
  if (v === undefined) return undefined
  return typeof v === 'string' ? v : (pick(v, 'default') ?? undefined)
}

/**
 * Load every `exports` key of a package's built output with plain Node (no dev-source condition),
 * as a consumer would, and check each key has its declaration file. A broken subpath cannot ship.
 */
export function describeBuiltExports(packageDir: string): void {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    name: string
    exports: Record<string, Conditions>
  }
  describe(`built exports of ${pkg.name}`, () => {
    for (const [subpath, entry] of Object.entries(pkg.exports)) {
      if (subpath === './package.json') continue
      it(`${subpath} loads from dist with declarations`, () => {
        const types = pick(entry, 'types')
        const runtime = pick(entry, 'import')
        expect(types, 'types condition').toMatch(/^\.\/dist\/.+\.d\.ts$/)
        expect(runtime, 'import condition').toMatch(/^\.\/dist\/.+\.js$/)
        expect(existsSync(join(packageDir, types as string)), `${types} exists (run pnpm build)`).toBe(true)
        const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`
        const out = execFileSync(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m)))`,
          ],
          { cwd: packageDir, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
        )
        const names = JSON.parse(out.trim().split('\n').pop() as string) as string[]
        expect(names.length).toBeGreaterThan(0)
      })
    }
  })
}
