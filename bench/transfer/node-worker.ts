/**
 * One pairctl node of `bench/transfer` in its own process (forked by index.ts through tsx): created
 * with `createNode` on loopback, paired with the other worker through the bench's DHT, then sending or
 * receiving files with `node.sendFiles`. Jobs arrive over IPC; see {@link NodeJob}.
 */
import { createNode, type PairctlNode } from '../../lib/node/index.js'

export type NodeJob =
  | { type: 'start'; dir: string; name: string; bootstrap: string[] }
  | { type: 'generate' }
  | { type: 'join'; code: string }
  | { type: 'online' }
  | { type: 'send'; device: string; path: string }
  | { type: 'stop' }

/** What a `send` job reports: milliseconds from its start until the offer was made and until the end. */
export interface SendResult {
  offeredMs: number
  doneMs: number
  state: string
}

let node: PairctlNode | undefined

async function handle(job: NodeJob): Promise<unknown> {
  if (job.type === 'start') {
    node = await createNode({
      dir: job.dir,
      host: '127.0.0.1',
      bootstrap: job.bootstrap,
      deviceInfo: { name: job.name, type: 'bench' },
    })
    return { deviceId: node.deviceId }
  }
  const self = node!
  if (job.type === 'generate') {
    const run = self.generate()
    for await (const step of run) {
      if (step.type === 'code') {
        void run.result.then(() => process.send!({ type: 'paired' }))
        return { code: step.code }
      }
      if (step.type === 'failed') throw new Error(`${step.code}: ${step.message}`)
    }
    throw new Error('generate ended without a code')
  }
  if (job.type === 'join') {
    await self.join(job.code).result
    return {}
  }
  if (job.type === 'online') {
    while (self.peers()[0]?.online !== true) await new Promise((resolve) => setTimeout(resolve, 20))
    return {}
  }
  if (job.type === 'send') {
    const start = performance.now()
    let offeredMs = 0
    let state = ''
    for await (const info of self.sendFiles(job.device, [job.path])) {
      if (offeredMs === 0) offeredMs = performance.now() - start
      state = info.state
    }
    return { offeredMs, doneMs: performance.now() - start, state } satisfies SendResult
  }
  await node?.close()
  process.disconnect()
  return undefined
}

process.on('message', (job: NodeJob) => {
  handle(job).then(
    (result) => result !== undefined && process.send!({ type: 'result', result }),
    (err: Error) => process.send!({ type: 'error', message: err.message }),
  )
})
