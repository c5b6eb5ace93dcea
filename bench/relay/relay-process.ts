/**
 * The relay of `bench/relay` in its own process (forked by index.ts through tsx with `--expose-gc`), so
 * its memory and CPU are its own and it never shares an event loop with the load. The limits arrive as
 * JSON in argv[2]. Replies over IPC: `{ port }` once listening; {@link RelayMemory} to each `memory`
 * message, {@link RelayCpu} to each `cpu` message; the process exits on `stop`.
 */
import { type RelayLimits, RelayServer } from '../../lib/relay/index.js'

export type RelayJob = { type: 'memory' } | { type: 'cpu' } | { type: 'stop' }
/** Memory after a full GC, and the circuits the core counts. */
export interface RelayMemory {
  rss: number
  heapUsed: number
  circuits: number
}
/** User plus system CPU time since the process started. */
export interface RelayCpu {
  cpuMs: number
}

// A memory figure without a collection before it would count garbage as circuits.
if (globalThis.gc === undefined) throw new Error('the bench relay needs --expose-gc')
const gc = globalThis.gc
const limits = JSON.parse(process.argv[2] ?? '{}') as Partial<RelayLimits>
const server = await RelayServer.listen({ host: '127.0.0.1', port: 0, limits })
process.send!({ port: server.address().port })

process.on('message', (job: RelayJob) => {
  if (job.type === 'memory') {
    // Two passes: the first can only queue what finalizers free for the second.
    gc()
    gc()
    const { rss, heapUsed } = process.memoryUsage()
    process.send!({ rss, heapUsed, circuits: server.core.circuitCount } satisfies RelayMemory)
  } else if (job.type === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.send!({ cpuMs: (user + system) / 1000 } satisfies RelayCpu)
  } else void server.close().then(() => process.disconnect())
})
