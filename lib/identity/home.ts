import { join } from 'node:path'
import envPaths from 'env-paths'
import { IdentityError } from './device-id.js'

/** Instance names become directory names: keep them portable and free of path tricks. */
const INSTANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
/** The instance used when `--instance` is not given. */
export const DEFAULT_INSTANCE = 'default'

/**
 * The pairctl home directory (`spec/identity.md` §4): `$PAIRCTL_HOME` when set, otherwise the platform's
 * data directory (`~/.local/share/pairctl` on Linux, per env-paths / XDG_DATA_HOME).
 */
export function pairctlHome(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.PAIRCTL_HOME
  if (configured !== undefined && configured !== '') return configured
  return envPaths('pairctl', { suffix: '' }).data
}

/** The directory of instance `name` under `home`; throws `IDENTITY_BAD_INSTANCE` for unsafe names. */
export function instanceDir(name: string = DEFAULT_INSTANCE, home: string = pairctlHome()): string {
  if (!INSTANCE_NAME.test(name) || name === '.' || name === '..') {
    throw new IdentityError(
      'IDENTITY_BAD_INSTANCE',
      `instance name "${name}" is invalid: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    )
  }
  return join(home, 'instances', name)
}
