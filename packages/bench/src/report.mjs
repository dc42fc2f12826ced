// Over 300 lines on purpose: one table after another, each a few lines, sharing the formatters.
// Turns the measured results into the markdown tables printed and written to docs/benchmarks.md.
import { READ_MANY } from './routes.mjs'
import { fmtBound, fmtInt, fmtMs, fmtRatio, median } from './stats.mjs'

const table = (head, rows) =>
  [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n')

/** The median over runs of the ratio measured within each run (contenders ran back to back). */
function ratio(a, b) {
  if (!a || !b) return Number.NaN
  const n = Math.min(a.runs.length, b.runs.length)
  return median(Array.from({ length: n }, (_, i) => a.runs[i].opsPerSec / b.runs[i].opsPerSec))
}

const cell = (r) => (r ? `${fmtInt(r.opsPerSec)} (${fmtMs(r.p50)} / ${fmtMs(r.p99)})` : '—')

export function storeOpsSection(results, targets) {
  const out = []
  const find = (db, kind, size, c, op) =>
    results.find(
      (r) => r.db === db && r.kind === kind && r.size === size && r.concurrency === c && r.op === op,
    )
  const sizes = [...new Set(results.map((r) => r.size))]
  const concs = [...new Set(results.map((r) => r.concurrency))]
  const ops = [...new Set(results.map((r) => r.op))]
  // Redis's issue (#26) sets only the raw floor for store operations; its peer ratio is shown.
  for (const [db, peerName, title, peerMin] of [
    ['pg', 'connect-pg-simple', 'PostgreSQL', 1],
    ['mysql', 'express-mysql-session', 'MariaDB', 1],
    ['redis', 'connect-redis', 'Redis', null],
  ]) {
    if (!results.some((r) => r.db === db)) continue
    out.push(`#### ${title}: ops/s (p50 / p99 ms)\n`)
    // BENCH_REDIS_BASELINE: another build's store, shown beside this one's; it sets no target.
    const withBaseline = results.some((r) => r.db === db && r.kind === 'baseline')
    const rows = []
    for (const size of sizes)
      for (const c of concs)
        for (const op of ops) {
          const raw = find(db, 'raw', size, c, op)
          const peer = find(db, 'peer', size, c, op)
          const store = find(db, 'sessile', size, c, op)
          const mgr = find(db, 'manager', size, c, op)
          const sp = ratio(store, peer)
          const sr = ratio(store, raw)
          targets.push(
            peerMin === null
              ? {
                  what: `${db} ${op} ${size} c=${c}: Sessile store / raw ≥ 0.85`,
                  value: fmtBound(sr, '≥', 0.85),
                  pass: sr >= 0.85,
                }
              : {
                  what: `${db} ${op} ${size} c=${c}: Sessile store / ${peerName} ≥ 1.00, / raw ≥ 0.85`,
                  value: `${fmtBound(sp, '≥', peerMin)} / ${fmtBound(sr, '≥', 0.85)}`,
                  pass: sp >= peerMin && sr >= 0.85,
                },
          )
          rows.push([
            size,
            c,
            op,
            cell(raw),
            cell(peer),
            cell(store),
            cell(mgr),
            fmtRatio(sp),
            fmtRatio(sr),
            fmtRatio(ratio(mgr, peer)),
            fmtRatio(ratio(mgr, raw)),
            ...(withBaseline ? [fmtRatio(ratio(find(db, 'baseline', size, c, op), raw))] : []),
          ])
        }
    out.push(
      table(
        [
          'size',
          'conc',
          'op',
          'raw',
          peerName,
          'Sessile store',
          'Sessile manager',
          'store / peer',
          'store / raw',
          'manager / peer',
          'manager / raw',
          ...(withBaseline ? ['baseline store / raw'] : []),
        ],
        rows,
      ),
    )
    out.push('')
  }
  if (results.some((r) => r.db === 'pglite')) {
    out.push('#### PGlite (embedded): ops/s (p50 / p99 ms)\n')
    const rows = []
    for (const size of sizes)
      for (const c of concs)
        for (const op of ops) {
          const raw = find('pglite', 'raw', size, c, op)
          const store = find('pglite', 'sessile', size, c, op)
          const sr = ratio(store, raw)
          // No peer stores sessions in PGlite: the raw-driver floor is its only target.
          targets.push({
            what: `pglite ${op} ${size} c=${c}: Sessile store / raw PGlite ≥ 0.85`,
            value: fmtBound(sr, '≥', 0.85),
            pass: sr >= 0.85,
          })
          rows.push([size, c, op, cell(raw), cell(store), fmtRatio(sr)])
        }
    out.push(table(['size', 'conc', 'op', 'raw PGlite', 'Sessile PGlite (store)', 'Sessile / raw'], rows))
    out.push('')
  }
  if (results.some((r) => r.db === 'sqlite')) {
    out.push('#### SQLite (a WAL file): ops/s (p50 / p99 ms)\n')
    // BENCH_SQLITE_BASELINE: another build's store, shown beside this one's; it sets no target.
    const withBaseline = results.some((r) => r.db === 'sqlite' && r.kind === 'baseline')
    const rows = []
    for (const size of sizes)
      for (const c of concs)
        for (const op of ops) {
          const raw = find('sqlite', 'raw', size, c, op)
          const store = find('sqlite', 'sessile', size, c, op)
          const libsql = find('sqlite', 'libsql', size, c, op)
          const baseline = find('sqlite', 'baseline', size, c, op)
          const sr = ratio(store, raw)
          // No peer stores sessions in SQLite for express here: raw better-sqlite3 is the floor.
          targets.push({
            what: `sqlite ${op} ${size} c=${c}: Sessile store (better-sqlite3) / raw better-sqlite3 ≥ 0.85`,
            value: fmtBound(sr, '≥', 0.85),
            pass: sr >= 0.85,
          })
          rows.push([
            size,
            c,
            op,
            cell(raw),
            cell(store),
            fmtRatio(sr),
            cell(libsql),
            fmtRatio(ratio(libsql, raw)),
            ...(withBaseline ? [cell(baseline), fmtRatio(ratio(baseline, raw))] : []),
          ])
        }
    out.push(
      table(
        [
          'size',
          'conc',
          'op',
          'raw better-sqlite3',
          'Sessile (better-sqlite3)',
          'Sessile / raw',
          'Sessile (libSQL)',
          'libSQL / raw',
          ...(withBaseline ? ['Sessile (baseline build)', 'baseline / raw'] : []),
        ],
        rows,
      ),
    )
    out.push('')
  }
  return out.join('\n')
}

function httpRatio(a, b) {
  if (!a || !b) return Number.NaN
  const n = Math.min(a.runs.length, b.runs.length)
  return median(Array.from({ length: n }, (_, i) => a.runs[i].reqPerSec / b.runs[i].reqPerSec))
}

export function httpSection(rows, exactPg, targets) {
  const get = (name, route) => rows.find((r) => r.contender === name && r.route === route)
  const peerOf = {
    'sessile pg': 'connect-pg-simple',
    'sessile mysql': 'express-mysql-session',
    'sessile redis': 'connect-redis',
  }
  const body = rows.map((r) => {
    const base = r.contender.replace('+filters', '')
    const peer = peerOf[base] ? get(peerOf[base], r.route) : null
    const plain = r.contender.endsWith('+filters') ? get(base, r.route) : null
    const memory = get('memory', r.route)
    return [
      r.contender,
      r.route,
      fmtInt(r.reqPerSec),
      fmtMs(r.p99),
      Number.isFinite(r.statements) ? r.statements.toFixed(2) : 'n/a',
      peer ? fmtRatio(httpRatio(r, peer)) : '',
      plain ? fmtRatio(httpRatio(r, plain)) : '',
      memory && r !== memory ? fmtRatio(httpRatio(r, memory)) : '',
      r.bad,
      Number.isFinite(r.warmReqPerSec)
        ? `${fmtInt(r.warmReqPerSec)}${peer ? ` (${fmtRatio(r.warmReqPerSec / peer.warmReqPerSec)})` : ''}`
        : '',
    ]
  })
  const check = (name, peer, route, min) => {
    // Neither ran (BENCH_ONLY left them out): no target to report.
    if (!get(name, route) && !get(peer, route)) return
    const v = httpRatio(get(name, route), get(peer, route))
    targets.push({
      what: `HTTP ${route}: ${name} / ${peer} ≥ ${min.toFixed(2)}`,
      value: fmtBound(v, '≥', min),
      pass: v >= min,
    })
  }
  check('sessile pg', 'connect-pg-simple', 'read-only', 1.5)
  check('sessile mysql', 'express-mysql-session', 'read-only', 1.2)
  check('sessile pg', 'connect-pg-simple', READ_MANY, 1.5)
  check('sessile mysql', 'express-mysql-session', READ_MANY, 1.2)
  check('sessile pg', 'connect-pg-simple', 'changing', 1)
  check('sessile mysql', 'express-mysql-session', 'changing', 1)
  // Filters (gzip, then AES-256-GCM) against the peer that stores plain JSON.
  check('sessile pg+filters', 'connect-pg-simple', 'changing', 1)
  check('sessile mysql+filters', 'express-mysql-session', 'changing', 1)
  check('sessile redis', 'connect-redis', 'read-only', 1.2)
  check('sessile redis', 'connect-redis', READ_MANY, 1.2)
  check('sessile redis', 'connect-redis', 'changing', 1)
  // Redis: commands the store's client sent (counted in the server process), not statements.
  for (const name of ['sessile pg', 'sessile mysql', 'sessile redis']) {
    if (!get(name, 'read-only')) continue
    const s = get(name, 'read-only')?.statements
    targets.push({
      what: `HTTP read-only: ${name} statements/request ≤ 1.05`,
      value: fmtBound(s, '≤', 1.05),
      pass: s <= 1.05,
    })
  }
  return [
    table(
      [
        'store',
        'route',
        'req/s',
        'p99 ms',
        'statements / request',
        'vs peer',
        'filters / no filters',
        'vs memory',
        'failed',
        'warm-up req/s (vs peer)',
      ],
      body,
    ),
    '',
    exactPg
      ? '_PostgreSQL statements: transactions of a database created for the run (each statement is its own transaction here), so no other client is counted; MariaDB: Com_select/insert/update/delete summed over the server pool’s own connections (SHOW SESSION STATUS)._'
      : '_PostgreSQL statements: transactions of the shared `test` database; other clients were counted too (a private database could not be created)._',
  ].join('\n')
}

export function sharedSection(rows, targets) {
  const get = (name) => rows.find((r) => r.contender === name)
  for (const [name, peer] of [
    ['sessile pg', 'connect-pg-simple'],
    ['sessile mysql', 'express-mysql-session'],
    ['sessile redis', 'connect-redis'],
  ]) {
    const s = get(name)
    const p = get(peer)
    if (!s || !p) continue
    const speed = s.reqPerSec / p.reqPerSec
    const tail = s.p99 / p.p99
    targets.push({
      what: `shared session: ${name} / ${peer} req/s ≥ 1.00, p99 ≤ 1.50`,
      value: `${fmtBound(speed, '≥', 1)} / ${fmtBound(tail, '≤', 1.5)}`,
      pass: speed >= 1 && tail <= 1.5,
    })
    targets.push({
      what: `shared session: ${name} statements/request ≤ 3`,
      value: fmtBound(s.statements, '≤', 3),
      pass: s.statements <= 3,
    })
    const lostRatio = p.lostShare > 0 ? s.lostShare / p.lostShare : s.lostShare > 0 ? Infinity : 0
    targets.push({
      what: `shared session: ${name} increments lost / ${peer}'s ≤ 1.00`,
      value: fmtBound(lostRatio, '≤', 1),
      pass: lostRatio <= 1,
    })
    targets.push({
      what: `shared session: ${name} increments lost % ≤ 10 (stretch)`,
      value: fmtBound(s.lostShare * 100, '≤', 10),
      pass: s.lostShare * 100 <= 10,
    })
  }
  return table(
    [
      'store',
      'increments acknowledged',
      'counter after',
      'lost',
      'lost %',
      'failed requests',
      'req/s',
      'p99 ms',
      'statements / request',
    ],
    rows.map((r) => [
      r.contender,
      r.ok,
      r.final,
      r.lost,
      (r.lostShare * 100).toFixed(1),
      r.failed,
      Math.round(r.reqPerSec ?? 0),
      r.p99 ?? '',
      Number.isFinite(r.statements) ? r.statements.toFixed(2) : 'n/a',
    ]),
  )
}

export function targetsSection(targets) {
  return table(
    ['target', 'measured', ''],
    targets.map((t) => [t.what, t.value, t.pass ? 'met' : '**missed**']),
  )
}
