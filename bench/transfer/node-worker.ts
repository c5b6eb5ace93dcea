/**
 * One pairctl node of `bench/transfer` in its own process (forked by index.ts through tsx): created
 * with `createNode` on loopback, paired with the other worker through the bench's DHT, then sending or
 * receiving files with `node.sendFiles`. Jobs arrive over IPC; see {@link NodeJob}.
 */
import { createNode, type PairctlNode } from '../../lib/node/index.js'
import { FINAL_STATES, type TransferInfo } from '../../lib/transfer/index.js'

export type NodeJob =
  | { type: 'start'; dir: string; name: string; bootstrap: string[] }
  | { type: 'generate' }
  | { type: 'join'; code: string }
  | { type: 'online' }
  | { type: 'send'; device: string; path: string }
  | { type: 'restart-mid-transfer'; after: number }
  | { type: 'stop' }

/**
 * What a `restart-mid-transfer` job reports, in milliseconds: `linkedMs` from the start of the restart
 * until the link is back, `resumeMs` from then until the resumed transfer verified a new chunk.
 */
export interface ResumeResult {
  linkedMs: number
  resumeMs: number
}

/** What a `send` job reports: milliseconds from its start until the offer was made and until the end. */
export interface SendResult {
  offeredMs: number
  doneMs: number
  state: string
}

let node: PairctlNode | undefined
let started: Extract<NodeJob, { type: 'start' }> | undefined

const pause = () => new Promise((resolve) => setTimeout(resolve, 5))

async function online(self: PairctlNode): Promise<void> {
  while (self.peers()[0]?.online !== true) await pause()
}

/**
 * Waits until the incoming transfer has `after` bytes verified, closes the node and creates it again on
 * the same instance directory, then times the link's return and the transfer's first new verified chunk.
 */
async function restartMidTransfer(after: number): Promise<ResumeResult> {
  const incoming = () => node!.transfers().find((info) => info.direction === 'receive' && !isFinal(info))
  while (incoming() === undefined) await pause()
  const { id } = incoming()!
  for (let info = incoming(); info?.id === id && info.transferred < after; info = incoming()) await pause()
  if (incoming()?.id !== id) throw new Error(`the transfer ended before ${after} bytes arrived`)
  await node!.close()
  const start = performance.now()
  node = await createNode(nodeOptions(started!))
  const restored = node.transfers().find((info) => info.id === id)!.transferred
  await online(node)
  const linkedMs = performance.now() - start
  for await (const info of node.followTransfer(id)) if (info.transferred > restored) break
  return { linkedMs, resumeMs: performance.now() - start - linkedMs }
}

function isFinal(info: TransferInfo): boolean {
  return FINAL_STATES.includes(info.state)
}

function nodeOptions(job: Extract<NodeJob, { type: 'start' }>) {
  return {
    dir: job.dir,
    host: '127.0.0.1',
    bootstrap: job.bootstrap,
    deviceInfo: { name: job.name, type: 'bench' },
  }
}

async function handle(job: NodeJob): Promise<unknown> {
  if (job.type === 'start') {
    started = job
    node = await createNode(nodeOptions(job))
    return { deviceId: node.deviceId }
  }
  if (job.type === 'restart-mid-transfer') return restartMidTransfer(job.after)
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
    await online(self)
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
