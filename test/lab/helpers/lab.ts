/**
 * Lab helpers for tests under test/lab: bring the namespace lab up and down (lab.sh), run commands
 * and agents inside its namespaces. Each test file passes its own prefix so two files never share
 * (or tear down) one lab.
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const LAB_SH = fileURLToPath(new URL('../lab.sh', import.meta.url))
const AGENT = fileURLToPath(new URL('./agent.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** Why the lab cannot run here, or `null` when it can (root and a working `ip netns`). */
export function labUnavailable(): string | null {
  if (process.getuid?.() !== 0) {
    return 'the NAT lab needs root (network namespaces, nftables): run `sudo npm run test:lab`; CI runs it as root'
  }
  const ip = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
  if (ip.status !== 0) return `\`ip netns list\` does not work here: ${ip.stderr || ip.error?.message}`
  return null
}

/** A lab prefix under `PCTL_LAB_PREFIX` (default `pctl`), so parallel runs of the lab never clash. */
export function labPrefix(name: string): string {
  return `${process.env.PCTL_LAB_PREFIX ?? 'pctl'}-${name}`
}

/** One running lab. */
export class Lab {
  private readonly env: NodeJS.ProcessEnv

  constructor(readonly prefix: string) {
    this.env = { ...process.env, PCTL_LAB_PREFIX: prefix }
  }

  /** `lab.sh up`; throws with lab.sh's output if it fails. */
  up(): void {
    const r = spawnSync(LAB_SH, ['up'], { env: this.env, encoding: 'utf8', timeout: 120_000 })
    if (r.status !== 0) throw new Error(`lab.sh up failed (${r.status}):\n${r.stdout}\n${r.stderr}`)
  }

  /** Any other `lab.sh` command (e.g. `nat-b random`); throws on failure. */
  script(args: string[]): string {
    return execFileSync(LAB_SH, args, { env: this.env, encoding: 'utf8', timeout: 30_000 })
  }

  /** `lab.sh down`. */
  down(): void {
    spawnSync(LAB_SH, ['down'], { env: this.env, encoding: 'utf8', timeout: 60_000 })
  }

  /** Namespace name of a lab node. */
  ns(node: string): string {
    return `${this.prefix}-${node}`
  }

  /** Runs a command in a node and returns its stdout (throws on a non-zero exit). */
  exec(node: string, cmd: string, args: string[]): string {
    return execFileSync('ip', ['netns', 'exec', this.ns(node), cmd, ...args], {
      encoding: 'utf8',
      timeout: 30_000,
    })
  }

  /** Runs a command in a node and returns stdout + stderr whatever its exit status (`stun` exits with its NAT type). */
  output(node: string, cmd: string, args: string[]): string {
    const r = spawnSync('ip', ['netns', 'exec', this.ns(node), cmd, ...args], {
      encoding: 'utf8',
      timeout: 30_000,
    })
    return `${r.stdout}${r.stderr}`
  }

  /** Starts an agent in a node. */
  async agent(node: string): Promise<Agent> {
    const child = spawn('ip', ['netns', 'exec', this.ns(node), 'node', '--import', 'tsx', AGENT], {
      cwd: ROOT,
    })
    const agent = new Agent(child)
    await agent.ready
    return agent
  }
}

interface Reply {
  id: number
  ok: boolean
  value?: unknown
  error?: { code: string; message: string; resultCode?: number }
}

/** JSON-lines client of helpers/agent.ts. */
export class Agent {
  readonly ready: Promise<unknown>
  private nextId = 1
  private readonly pending = new Map<number, (r: Reply) => void>()
  private stderr = ''

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    let buffered = ''
    this.ready = new Promise((resolve, reject) => {
      this.pending.set(0, resolve)
      child.on('exit', (code) => reject(new Error(`agent exited ${code}: ${this.stderr}`)))
    })
    child.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString()
    })
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString()
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const reply = JSON.parse(buffered.slice(0, nl)) as Reply
        buffered = buffered.slice(nl + 1)
        this.pending.get(reply.id)?.(reply)
        this.pending.delete(reply.id)
      }
    })
  }

  /** Sends a command; resolves with its value, rejects with an Error carrying the agent's error code. */
  async call<T = unknown>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++
    const reply = await new Promise<Reply>((resolve) => {
      this.pending.set(id, resolve)
      this.child.stdin.write(`${JSON.stringify({ id, cmd, ...args })}\n`)
    })
    if (reply.ok) return reply.value as T
    throw Object.assign(new Error(reply.error?.message ?? 'agent error'), reply.error)
  }

  /** Ends stdin (the agent closes its mappers and servers and exits); kills it after 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.child.stdin.end()
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
}
