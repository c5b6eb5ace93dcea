import { spawn } from 'node:child_process'
import dgram from 'node:dgram'
import t from 'tap'
import { equalBytes } from '../../lib/crypto/index.js'
import { encodeAddress, nodeIdOf } from '../../lib/dht/address.js'
import { Command } from '../../lib/dht/constants.js'
import { decodeMessage, encodeRequest } from '../../lib/dht/messages.js'
import { DhtNode } from '../../lib/dht/node.js'
import { stunBinding } from '../../lib/stun/index.js'
import { CLI_ARGS, tempHome } from './helpers/cli.js'

/** A UDP port free right now on the wildcard (the README's command takes a fixed port). */
async function freePort(): Promise<number> {
  const socket = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '0.0.0.0', resolve))
  const { port } = socket.address()
  await new Promise<void>((resolve) => socket.close(() => resolve()))
  return port
}

/** Sends a DHT PING from `host` to `host:port`; resolves with where the reply came from and its id. */
async function ping(host: string, port: number) {
  const socket = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, host, resolve))
  try {
    const request = encodeRequest({ t: 7, c: Command.PING, to: encodeAddress({ host, port }) }, {})
    const reply = new Promise<{ from: string; id: Uint8Array | undefined }>((resolve) =>
      socket.once('message', (data, rinfo) =>
        resolve({ from: rinfo.address, id: decodeMessage(new Uint8Array(data))?.id }),
      ),
    )
    // Retransmitted until answered: the first may race the process binding its sockets.
    const timer = setInterval(() => socket.send(request, port, host), 200)
    socket.send(request, port, host)
    try {
      return await reply
    } finally {
      clearInterval(timer)
    }
  } finally {
    socket.close()
  }
}

t.test('`pairctl bootstrap --port N` (no --host) serves each loopback address from itself', async (t) => {
  const home = await tempHome(t)
  const port = await freePort()
  const child = spawn(process.execPath, [...CLI_ARGS, 'bootstrap', '--port', String(port)], {
    env: { ...process.env, PAIRCTL_HOME: home, DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => child.kill('SIGKILL'))
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const listening = await new Promise<string>((resolve, reject) => {
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      if (stdout.includes('\n')) resolve(stdout)
    })
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)))
  })
  t.match(listening, `bootstrap node: DHT and STUN on udp 0.0.0.0:${port}`, 'it started')
  t.match(listening, `127.0.0.1:${port}`, 'and lists the interface addresses it serves')

  for (const host of ['127.0.0.1', '127.0.0.2']) {
    const reply = await ping(host, port)
    t.equal(reply.from, host, `a PING to ${host} is answered from ${host}`)
    t.ok(reply.id !== undefined && equalBytes(reply.id, nodeIdOf({ host, port })), `with ${host}'s node id`)
  }

  const client = await DhtNode.create({ host: '127.0.0.2', bootstrap: [`127.0.0.2:${port}`] })
  t.teardown(() => client.close())
  await client.ready()
  t.equal(client.stats().tableSize, 1, 'a DHT node on 127.0.0.2 joins through it and keeps it as a server')
  const stun = await stunBinding({ host: '127.0.0.1', port }, { localAddress: '127.0.0.1', rto: 200 })
  t.equal(stun.mapped.host, '127.0.0.1', 'STUN answers on the same port')
  t.equal(child.exitCode, null, 'still running')
})
