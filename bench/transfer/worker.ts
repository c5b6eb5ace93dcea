/**
 * The raw TCP anchor of `bench/transfer`, one side per process (forked by index.ts through tsx): a file
 * copied over a plain loopback socket to a file on disk, fsynced, with nothing else (no hashing, no
 * framing, no encryption). Jobs arrive over IPC; see {@link Job}.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { createServer, type Server, connect as tcpConnect } from 'node:net'
import { pipeline } from 'node:stream/promises'

export type Job =
  | { type: 'file-sink'; path: string }
  | { type: 'file-source'; path: string; port: number }
  | { type: 'stop' }

const CHUNK = 1024 * 1024
let server: Server | undefined

/** Writes the first connection's bytes to `path`; reports the time from its first byte until fsync returned. */
function fileSink(job: Extract<Job, { type: 'file-sink' }>): void {
  server?.close()
  server = createServer({ noDelay: true }, async (socket) => {
    let start = 0
    socket.once('data', () => (start = performance.now()))
    const out = createWriteStream(job.path, { highWaterMark: CHUNK })
    await pipeline(socket, out)
    const handle = await open(job.path, 'r')
    await handle.sync()
    await handle.close()
    process.send!({ type: 'result', ms: performance.now() - start })
  })
  server.listen(0, '127.0.0.1', () =>
    process.send!({ type: 'port', port: (server!.address() as { port: number }).port }),
  )
}

async function fileSource(job: Extract<Job, { type: 'file-source' }>): Promise<void> {
  const socket = tcpConnect({ port: job.port, host: '127.0.0.1', noDelay: true })
  await new Promise((resolve) => socket.once('connect', resolve))
  await pipeline(createReadStream(job.path, { highWaterMark: CHUNK }), socket)
  process.send!({ type: 'result' })
}

process.on('message', (job: Job) => {
  if (job.type === 'file-sink') fileSink(job)
  else if (job.type === 'file-source') void fileSource(job)
  else {
    server?.close()
    server?.unref()
    process.disconnect()
  }
})
