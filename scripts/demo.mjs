#!/usr/bin/env node
/**
 * `npm run demo`: pairs two devices on this machine, end to end, through the real CLI.
 *
 * Starts a local DHT bootstrap node and two daemons ("alice" and "bob") as separate processes under a
 * temporary PAIRCTL_HOME, all on 127.0.0.1; alice generates a code, bob joins with it, each lists the
 * other, both see the other online and they exchange a message each way. Cleans up (stops every process, removes the directory) even when a step fails.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const built = join(root, 'dist', 'cli', 'pairctl.js')
/** The compiled CLI when `npm ci` built it, else the source through tsx. */
const cli = existsSync(built) ? [built] : ['--import', 'tsx', join(root, 'cli', 'pairctl.ts')]
const STEP_TIMEOUT_MS = 20_000
/** bob's progress steps in plain words. */
const STEP_WORDS = {
  searching: () => 'looking up the code in the DHT',
  found: (step) => `found alice's advertisement (${step.addresses.join(', ')})`,
  'peer-connected': (step) => `connected to alice at ${step.address} (Noise XX handshake)`,
  verifying: () => 'proving knowledge of the code (CPace inside the encrypted channel)',
  sas: (step) => `both devices now show the same security code ${step.sas}`,
}

const home = await mkdtemp(join(tmpdir(), 'pairctl-demo-'))
const env = { ...process.env, PAIRCTL_HOME: home }
const children = new Set()
const daemons = []
const started = Date.now()

function say(text) {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(5)
  console.log(`[${seconds}s] ${text}`)
}

/** Starts `pairctl ...args`; yields its stdout JSON lines through `lines`. */
function launch(args) {
  const child = spawn(process.execPath, [...cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise((resolve) =>
    child.on('close', (code) => {
      children.delete(child)
      resolve(code)
    }),
  )
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  return { child, lines, exited, stderr: () => stderr }
}

/** Runs `pairctl ...args --json` to completion; returns its JSON lines or throws with its error. */
async function pairctl(args) {
  const run = launch([...args, '--json'])
  const records = []
  for await (const line of { [Symbol.asyncIterator]: () => run.lines }) records.push(JSON.parse(line))
  const code = await withTimeout(run.exited, `pairctl ${args.join(' ')}`)
  if (code !== 0)
    throw new Error(`pairctl ${args.join(' ')} exited ${code}: ${describe(records, run.stderr())}`)
  return records
}

/** Reads JSON lines of a running process until one satisfies `match`. */
async function waitFor(run, what, match) {
  const next = async () => {
    for (;;) {
      const { value, done } = await run.lines.next()
      if (done) throw new Error(`${what}: the process ended first (${run.stderr().trim()})`)
      const record = JSON.parse(value)
      if (record.type === 'error') throw new Error(`${what}: ${record.message}`)
      if (match(record)) return record
    }
  }
  return withTimeout(next(), what)
}

function withTimeout(promise, what) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} took longer than ${STEP_TIMEOUT_MS / 1000} s`)),
      STEP_TIMEOUT_MS,
    )
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function describe(records, stderr) {
  const error = records.find((record) => record.type === 'error')
  return error ? `${error.code}: ${error.message}` : stderr.trim() || 'no output'
}

async function demo() {
  say(`Using a fresh PAIRCTL_HOME: ${home}`)
  say('Starting a local DHT bootstrap node on 127.0.0.1 (it also answers STUN)…')
  const bootstrap = launch(['bootstrap', '--host', '127.0.0.1', '--port', '0', '--json'])
  const listening = await waitFor(bootstrap, 'the bootstrap node', (record) => record.type === 'listening')
  const bootstrapAddress = `127.0.0.1:${listening.port}`
  say(`Bootstrap node listening on ${bootstrapAddress}.`)

  for (const name of ['alice', 'bob']) {
    say(`Starting ${name}'s daemon (its own process, its own identity)…`)
    const [event] = await pairctl([
      '--instance',
      name,
      'start',
      '--host',
      '127.0.0.1',
      '--bootstrap',
      bootstrapAddress,
      '--name',
      name,
    ])
    daemons.push({ name, pid: event.pid })
    const [{ deviceId }] = await pairctl(['--instance', name, 'id'])
    say(`${name} is running (pid ${event.pid}), device ID ${deviceId}.`)
  }

  say('alice generates a pairing code…')
  const generate = launch(['--instance', 'alice', 'generate', '--json'])
  const { code } = await waitFor(generate, 'alice generate', (record) => record.type === 'code')
  say(`alice's code is: ${code}`)
  await waitFor(generate, 'alice generate', (record) => record.type === 'advertised')
  say('alice advertised the code in the DHT and waits for bob.')

  say(`bob joins with "${code}"…`)
  const joined = await pairctl(['--instance', 'bob', 'join', code])
  for (const step of joined) if (STEP_WORDS[step.type]) say(`  bob: ${STEP_WORDS[step.type](step)}`)
  const bobSaw = joined.find((record) => record.type === 'paired')
  say(`bob paired with "${bobSaw.device.name}" ${bobSaw.device.deviceId}.`)
  const aliceSaw = await waitFor(generate, 'alice generate', (record) => record.type === 'paired')
  say(`alice paired with "${aliceSaw.device.name}" ${aliceSaw.device.deviceId}.`)
  if ((await withTimeout(generate.exited, 'alice generate')) !== 0) throw new Error('alice generate failed')

  for (const [name, other] of [
    ['alice', 'bob'],
    ['bob', 'alice'],
  ]) {
    const [{ devices }] = await pairctl(['--instance', name, 'devices'])
    const names = devices.map((device) => device.name)
    say(`pairctl devices on ${name}: ${names.join(', ') || '(none)'}`)
    if (!names.includes(other)) throw new Error(`${name} does not list ${other}`)
  }
  await exchangeMessages()
}

/** Polls `pairctl status` until `name` reports `other` online (the presence link). */
async function waitOnline(name, other) {
  const deadline = Date.now() + STEP_TIMEOUT_MS
  for (;;) {
    const [status] = await pairctl(['--instance', name, 'status'])
    const peer = status.paired.find((device) => device.name === other)
    if (peer?.online === true) return
    if (Date.now() > deadline) throw new Error(`${name} does not see ${other} online`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/** Each side listens while the other sends, over the Noise IK link the presence records set up. */
async function exchangeMessages() {
  say('Waiting for the devices to find each other (presence records in the DHT, Noise IK reconnect)…')
  await waitOnline('alice', 'bob')
  await waitOnline('bob', 'alice')
  say('pairctl status on both: the other device is online.')
  for (const [from, to, text] of [
    ['alice', 'bob', 'hello bob, this is alice'],
    ['bob', 'alice', 'hi alice, bob here'],
  ]) {
    const listen = launch(['--instance', to, 'listen', '--count', '1', '--json'])
    await waitFor(listen, `${to} listen`, (record) => record.type === 'listening')
    await pairctl(['--instance', from, 'send', to, text])
    say(`${from} sent "${text}"`)
    const message = await waitFor(listen, `${to} listen`, (record) => record.type === 'message')
    say(`${to} received from ${message.name}: "${message.text}"`)
    if ((await withTimeout(listen.exited, `${to} listen`)) !== 0) throw new Error(`${to} listen failed`)
  }
}

/** Stops every daemon (also one still starting: its instance is stopped by name), then the rest. */
async function cleanUp() {
  for (const name of ['alice', 'bob']) {
    if (!daemons.some((daemon) => daemon.name === name))
      await pairctl(['--instance', name, 'stop']).catch(() => undefined)
  }
  for (const { name, pid } of daemons) {
    await pairctl(['--instance', name, 'stop']).catch(() => {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    })
  }
  for (const child of children) child.kill('SIGKILL')
  await rm(home, { recursive: true, force: true })
}

let cleaning = null
const cleanUpOnce = () => {
  cleaning ??= cleanUp()
  return cleaning
}
// Ctrl-C: the detached daemons would outlive the demo (parent PID 1), and the directory would stay.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    say(`Interrupted (${signal}): stopping the daemons and removing the temporary directory.`)
    await cleanUpOnce()
    process.exit(130)
  })
}

let failed = false
try {
  await demo()
  say('Demo finished: alice and bob are paired, see each other online and exchanged messages.')
} catch (err) {
  failed = true
  console.error(`\nDemo failed: ${err.message}`)
} finally {
  say('Cleaning up: stopping the daemons and the bootstrap node, removing the temporary directory.')
  await cleanUpOnce()
}
process.exit(failed ? 1 : 0)
