import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { FIGURES_DIR } from './figures.js'

const SCRIPT = fileURLToPath(new URL('../../../scripts/galera-cluster.sh', import.meta.url))

/**
 * The cluster suites' global setup: use the cluster that runs (CI starts it before this step),
 * or start one and stop it again, by its nodes' own pids, when the run ends, failed or not.
 */
export default function setup(): () => void {
  rmSync(`${FIGURES_DIR}galera.jsonl`, { force: true })
  let running = true
  try {
    execFileSync('bash', [SCRIPT, 'wait-synced', '3', '1'], { stdio: 'ignore' })
  } catch {
    running = false
  }
  if (running || process.env.SESSILE_GALERA_START === '0') return () => {}
  execFileSync('bash', [SCRIPT, 'start'], { stdio: 'inherit', timeout: 300_000 })
  return () => {
    execFileSync('bash', [SCRIPT, 'stop'], { stdio: 'inherit', timeout: 120_000 })
  }
}
