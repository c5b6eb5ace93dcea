/**
 * Test helpers for the real-peer STUN tests: Debian packages installed on demand (a test fails,
 * never skips, when they cannot be), free loopback ports, and a coturn process killed at test end.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import dgram from 'node:dgram'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { stunBinding } from '../../../lib/stun/index.js'

/** Installs `pkg` with apt-get when `command` is missing; throws when that fails. */
export function ensureCommand(command: string, pkg: string): void {
  if (hasCommand(command)) return
  // A fresh machine may have no package lists yet.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update'], { stdio: 'ignore', timeout: 300_000, env })
  execFileSync('apt-get', ['install', '-y', pkg], { stdio: 'ignore', timeout: 300_000, env })
  if (!hasCommand(command)) throw new Error(`${command} missing after apt-get install ${pkg}`)
}

function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** A port free for both UDP and TCP on `host` at the time of the call. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, host, () => {
        const { port } = server.address() as net.AddressInfo
        server.close(() => resolve(port))
      })
    })
    if (await udpFree(host, port)) return port
  }
}

function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4')
    socket.once('error', () => resolve(false))
    socket.bind(port, host, () => socket.close(() => resolve(true)))
  })
}

/** A running coturn in STUN-only mode. */
export interface Coturn {
  port: number
  altPort: number
  process: ChildProcess
  log: () => string
  stop: () => Promise<void>
}

/** Starts `turnserver` on the given addresses (first one primary) and waits until it answers. */
export async function startCoturn(hosts: string[]): Promise<Coturn> {
  ensureCommand('turnserver', 'coturn')
  const port = await freePort()
  const altPort = await freePort()
  const listen = hosts.flatMap((h) => ['-L', h])
  const args = ['-n', '--stun-only', '--no-cli', '--no-tls', '--no-dtls', ...listen, '-p', String(port)]
  args.push('--alt-listening-port', String(altPort), '--log-file', 'stdout', '--simple-log')
  args.push('--no-software-attribute', '--pidfile', `/tmp/pairctl-coturn-${port}.pid`)
  const child = spawn('turnserver', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (d) => (output += d))
  child.stderr?.on('data', (d) => (output += d))
  const stop = () => stopProcess(child)
  await waitUntilAnswering({ host: hosts[0]!, port }, child, () => output)
  return { port, altPort, process: child, log: () => output, stop }
}

async function waitUntilAnswering(
  server: { host: string; port: number },
  child: ChildProcess,
  log: () => string,
) {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`turnserver exited ${child.exitCode}: ${log()}`)
    try {
      await stunBinding(server, { rto: 50, rc: 1, rm: 2 })
      return
    } catch {
      await sleep(50)
    }
  }
  child.kill('SIGKILL')
  throw new Error(`turnserver did not answer: ${log()}`)
}

/** SIGTERM, then SIGKILL after 2 s; resolves when the process has exited. */
export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 2000)
    child.once('exit', () => {
      clearTimeout(kill)
      resolve()
    })
    child.kill('SIGTERM')
  })
}
