import { rmSync } from 'node:fs'
import { FIGURES_DIR } from './figures.js'

/** A run starts with no figures of its project, so the report shows this run only. */
export default function setup(): void {
  const project = process.env.SESSILE_FIGURES_PROJECT ?? 'reliability'
  rmSync(`${FIGURES_DIR}${project}.jsonl`, { force: true })
}
