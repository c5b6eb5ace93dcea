import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { PairctlError } from '../errors.js'
import { ensureDir, writeAtomic } from '../identity/index.js'

/** File name of the per-instance configuration inside the instance directory (`spec/cli.md` §5). */
export const CONFIG_FILE = 'config.json'
/** Environment variable with bootstrap nodes (`HOST:PORT`, comma-separated); overrides the file. */
export const BOOTSTRAP_ENV = 'PAIRCTL_BOOTSTRAP'

/** Errors of the per-instance configuration. */
export class ConfigError extends PairctlError {}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\],]+):(\d{1,5})$/

/** A `HOST:PORT` whose port is 1-65535. */
export const BootstrapAddress = z.string().refine((text) => {
  const port = Number(HOST_PORT.exec(text)?.[2])
  return Number.isInteger(port) && port >= 1 && port <= 65535
}, 'must be HOST:PORT with a port from 1 to 65535, e.g. 192.0.2.7:49737')

/** What an instance remembers between commands (`spec/cli.md` §5); every key is optional. */
export const InstanceConfig = z.strictObject({
  version: z.literal(1).default(1),
  /** DHT bootstrap nodes. */
  bootstrap: z.array(BootstrapAddress).max(16).optional(),
  /** Name shown to the other device when pairing. */
  name: z.string().min(1).max(64).optional(),
  /** Address to bind. */
  host: z.string().min(1).max(253).optional(),
  /** UDP/TCP port to listen on (0: any free port). */
  port: z.number().int().min(0).max(65535).optional(),
})
export type InstanceConfig = z.output<typeof InstanceConfig>

/** The keys a person may get and set. */
export const CONFIG_KEYS = ['bootstrap', 'name', 'host', 'port'] as const
export type ConfigKey = (typeof CONFIG_KEYS)[number]

/** True when `key` is one of {@link CONFIG_KEYS}. */
export function isConfigKey(key: string): key is ConfigKey {
  return (CONFIG_KEYS as readonly string[]).includes(key)
}

/** Reads the instance's configuration; no file is an empty one. A malformed file is `CONFIG_INVALID`. */
export async function loadConfig(dir: string): Promise<InstanceConfig> {
  const path = join(dir, CONFIG_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1 }
    throw new ConfigError('CONFIG_IO', `cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw invalid(path, 'it is not JSON')
  }
  const parsed = InstanceConfig.safeParse(json)
  if (!parsed.success) throw invalid(path, describeIssue(parsed.error.issues[0]))
  return parsed.data
}

/** Validates and writes the configuration (atomically, mode 0600). */
export async function saveConfig(dir: string, config: InstanceConfig): Promise<void> {
  const parsed = InstanceConfig.safeParse(config)
  if (!parsed.success) throw new ConfigError('CONFIG_INVALID', describeIssue(parsed.error.issues[0]))
  await ensureDir(dir)
  await writeAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(parsed.data, null, 2)}\n`)
}

/**
 * `config` with `key` set from the words a person typed: `bootstrap` takes one or more `HOST:PORT`
 * (separate words or comma-separated), `port` a whole number, the others one word. Throws
 * `CONFIG_BAD_VALUE` in plain words.
 */
export function withValue(config: InstanceConfig, key: ConfigKey, words: string[]): InstanceConfig {
  const value = parseValue(key, words)
  const parsed = InstanceConfig.safeParse({ ...config, [key]: value })
  if (!parsed.success) throw badValue(key, describeIssue(parsed.error.issues[0]))
  return parsed.data
}

/** `config` without `key`. */
export function withoutValue(config: InstanceConfig, key: ConfigKey): InstanceConfig {
  const { [key]: _removed, ...rest } = config
  return rest
}

/** Bootstrap nodes from `$PAIRCTL_BOOTSTRAP` (comma- or space-separated), or undefined when unset. */
export function bootstrapFromEnv(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const text = env[BOOTSTRAP_ENV]?.trim()
  if (text === undefined || text === '') return undefined
  const nodes = splitList([text])
  const bad = nodes.find((node) => !BootstrapAddress.safeParse(node).success)
  if (bad !== undefined)
    throw new ConfigError(
      'CONFIG_BAD_VALUE',
      `${BOOTSTRAP_ENV} holds "${bad}", which is not HOST:PORT with a port from 1 to 65535`,
    )
  return nodes
}

function parseValue(key: ConfigKey, words: string[]): unknown {
  if (words.length === 0) throw badValue(key, 'give a value')
  if (key === 'bootstrap') return splitList(words)
  if (words.length > 1) throw badValue(key, 'give one value')
  const [word] = words as [string]
  if (key !== 'port') return word
  if (!/^\d+$/.test(word)) throw badValue(key, `"${word}" is not a whole number from 0 to 65535`)
  return Number(word)
}

function splitList(words: string[]): string[] {
  return words.flatMap((word) => word.split(/[\s,]+/)).filter((word) => word !== '')
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return 'invalid'
  const path = issue.path.filter((part) => typeof part !== 'number').join('.')
  if (issue.code === 'unrecognized_keys') return `unknown key(s) ${issue.keys.join(', ')}`
  if (issue.code === 'too_big' || issue.code === 'too_small')
    return `${path} is out of range (${issue.message})`
  return path === '' ? issue.message : `${path}: ${issue.message}`
}

function invalid(path: string, detail: string): ConfigError {
  return new ConfigError(
    'CONFIG_INVALID',
    `the configuration file ${path} is invalid (${detail}); fix or delete it`,
  )
}

function badValue(key: ConfigKey, detail: string): ConfigError {
  return new ConfigError('CONFIG_BAD_VALUE', `invalid value for ${key}: ${detail}`)
}
