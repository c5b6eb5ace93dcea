import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The version of the installed package, read from the nearest `package.json` named `pairctl` above this
 * file: the CLI runs both from source (`cli/`) and compiled (`dist/cli/`), one or two levels deep.
 */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let depth = 0; depth < 4; depth++) {
    const found = readManifest(join(dir, 'package.json'))
    if (found !== null) return found
    dir = dirname(dir)
  }
  return 'unknown'
}

function readManifest(path: string): string | null {
  try {
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown; version?: unknown }
    return manifest.name === 'pairctl' && typeof manifest.version === 'string' ? manifest.version : null
  } catch {
    return null
  }
}
