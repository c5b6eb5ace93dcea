/**
 * One long-lived process of `scripts/soak.ts` (forked through tsx with `--expose-gc`): a bootstrap node,
 * a pairctl device node (which it may stop and start again in the same process), or a set of plain DHT
 * nodes joining and leaving. Jobs arrive over IPC as {@link SoakRequest}s and are answered by id, so the
 * orchestrator may sample a process while a job of it runs. Everything binds to 127.0.0.1.
 */
import { createHash } from 'node:crypto'
import { createReadStream, readdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { TransferInfo } from '../lib/control/protocol.js'
import { DhtNode } from '../lib/dht/node.js'
import { PairctlError } from '../lib/errors.js'
import { type BootstrapNode, createNode, type PairctlNode, startBootstrapNode } from '../lib/node/index.js'

/** How long a worker waits for a link to come up or a removal to arrive before failing the job. */
const WAIT_MS = 30_000

/** A job and what it resolves with. */
export interface SoakJobs {
  /** Starts a bootstrap node (DHT server answering STUN) on 127.0.0.1. */
  'start-bootstrap': { job: Record<string, never>; result: { port: number } }
  /** Creates the device node of this process (again, after `stop-node`: same directory, same pairings). */
  'start-node': { job: { dir: string; name: string; bootstrap: string[] }; result: { deviceId: string } }
  /** Closes the device node; the process stays. */
  'stop-node': { job: Record<string, never>; result: Record<string, never> }
  /** Generates a code; the pairing goes on until `await-paired` collects it. */
  generate: { job: Record<string, never>; result: { code: string } }
  /** The device a `generate` run paired with. */
  'await-paired': { job: { code: string }; result: { deviceId: string } }
  join: { job: { code: string }; result: { deviceId: string } }
  /** Resolves once the link to `deviceId` is up. */
  online: { job: { deviceId: string }; result: Record<string, never> }
  /** Sends a text and resolves once the peer acknowledged it. */
  'send-message': { job: { deviceId: string; text: string }; result: Record<string, never> }
  /** The texts received from `deviceId` since the last call. */
  'take-messages': { job: { deviceId: string }; result: { texts: string[] } }
  /** Sends one file and resolves with the transfer's final state. */
  'send-file': { job: { deviceId: string; path: string }; result: { state: string } }
  /** This node's unfinished transfers with `deviceId`, and whether the link is up: what a stuck transfer waits on. */
  'transfer-states': {
    job: { deviceId: string }
    result: { online: boolean; unfinished: string[]; duplicateLinks: number }
  }
  /** Checks a received file's SHA-256 and deletes it, so the downloads directory stays empty. */
  'take-file': { job: { name: string; sha256: string }; result: Record<string, never> }
  unpair: { job: { deviceId: string }; result: Record<string, never> }
  /** Resolves once `deviceId` is no longer paired (the peer's `unpair` arrived). */
  forgotten: { job: { deviceId: string }; result: Record<string, never> }
  /** Starts one more plain DHT node (server mode) joined through `bootstrap`. */
  'dht-join': { job: { bootstrap: string[] }; result: { nodes: number } }
  /** Closes the oldest plain DHT node. */
  'dht-leave': { job: Record<string, never>; result: { nodes: number } }
  /** This process's resource figures, after a full garbage collection. */
  sample: { job: Record<string, never>; result: ProcessSample }
  /** Closes whatever runs and exits. */
  exit: { job: Record<string, never>; result: Record<string, never> }
}
export type SoakJobType = keyof SoakJobs
export type SoakRequest = { id: number; type: SoakJobType } & SoakJobs[SoakJobType]['job']
export type SoakReply =
  | { id: number; ok: true; result: SoakJobs[SoakJobType]['result'] }
  | { id: number; ok: false; code: string; message: string }

/** What `sample` reports. */
export interface ProcessSample {
  heapUsed: number
  rss: number
  /** Entries of `/proc/self/fd`. */
  fds: number
  /** `process.getActiveResourcesInfo()` counted by type (`Timeout`, `UDPWRAP`, `TCPWRAP`, …). */
  resources: Record<string, number>
}

let bootstrapNode: BootstrapNode | undefined
let node: PairctlNode | undefined
const dhtNodes: DhtNode[] = []
/** Generate runs waiting for `await-paired`, by code. */
const generating = new Map<string, Promise<{ deviceId: string }>>()
/** Texts received and not yet taken, by sending device. */
const inbox = new Map<string, string[]>()
let downloads = ''

const FINAL_STATES = new Set(['done', 'rejected', 'cancelled', 'failed'])

function describe(info: TransferInfo | undefined): string {
  if (info === undefined) return 'never offered'
  const error = info.error === null ? '' : ` ${info.error.code}`
  return `${info.direction} ${info.id} ${info.state}${error} ${info.transferred}/${info.bytes} B`
}

function running(): PairctlNode {
  if (node === undefined) throw new Error('no device node runs in this process')
  return node
}

/** Resolves once `check()` holds, re-checking on each of `node`'s `events`; rejects after {@link WAIT_MS}. */
function until(self: PairctlNode, events: ('device-online' | 'device-removed')[], check: () => boolean) {
  return new Promise<Record<string, never>>((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer)
      for (const event of events) self.off(event, recheck)
      if (err === undefined) resolve({})
      else reject(err)
    }
    const recheck = () => check() && done()
    const timer = setTimeout(() => done(new Error(`not so within ${WAIT_MS} ms`)), WAIT_MS)
    for (const event of events) self.on(event, recheck)
    recheck()
  })
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const piece of createReadStream(path)) hash.update(piece as Buffer)
  return hash.digest('hex')
}

function sample(): ProcessSample {
  globalThis.gc?.()
  const resources: Record<string, number> = {}
  for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1
  const { heapUsed, rss } = process.memoryUsage()
  return { heapUsed, rss, fds: readdirSync('/proc/self/fd').length, resources }
}

async function handle(request: SoakRequest): Promise<SoakJobs[SoakJobType]['result']> {
  switch (request.type) {
    case 'start-bootstrap': {
      bootstrapNode = await startBootstrapNode({ host: '127.0.0.1' })
      return { port: bootstrapNode.port }
    }
    case 'start-node': {
      const { dir, name, bootstrap } = request as SoakJobs['start-node']['job']
      const self = await createNode({
        dir,
        host: '127.0.0.1',
        bootstrap,
        lanDiscovery: false,
        portMapping: false,
        deviceInfo: { name, type: 'soak' },
      })
      self.on('message', ({ deviceId, text }) => inbox.set(deviceId, [...(inbox.get(deviceId) ?? []), text]))
      downloads = join(dir, 'downloads')
      node = self
      return { deviceId: self.deviceId }
    }
    case 'stop-node': {
      await running().close()
      node = undefined
      return {}
    }
    case 'generate': {
      const run = running().generate()
      for await (const step of run) {
        if (step.type === 'code') {
          generating.set(
            step.code,
            run.result.then(({ deviceId }) => ({ deviceId })),
          )
          generating.get(step.code)!.catch(() => undefined)
          return { code: step.code }
        }
        if (step.type === 'failed') throw new PairctlError(step.code, step.message)
      }
      throw new Error('generate ended without a code')
    }
    case 'await-paired': {
      const { code } = request as SoakJobs['await-paired']['job']
      const paired = generating.get(code)
      generating.delete(code)
      if (paired === undefined) throw new Error(`no generate run for ${code}`)
      return paired
    }
    case 'join': {
      const { code } = request as SoakJobs['join']['job']
      const { deviceId } = await running().join(code).result
      return { deviceId }
    }
    case 'online': {
      const { deviceId } = request as SoakJobs['online']['job']
      const self = running()
      return until(self, ['device-online'], () =>
        self.peers().some((peer) => peer.deviceId === deviceId && peer.online),
      )
    }
    case 'send-message': {
      const { deviceId, text } = request as SoakJobs['send-message']['job']
      await running().send(deviceId, text)
      return {}
    }
    case 'take-messages': {
      const { deviceId } = request as SoakJobs['take-messages']['job']
      const texts = inbox.get(deviceId) ?? []
      inbox.delete(deviceId)
      return { texts }
    }
    case 'send-file': {
      const { deviceId, path } = request as SoakJobs['send-file']['job']
      // Past the deadline the transfer is cancelled, so that a stuck one fails this job with what it was at.
      const deadline = AbortSignal.timeout(WAIT_MS)
      let last: TransferInfo | undefined
      for await (const info of running().sendFiles(deviceId, [path], { signal: deadline })) last = info
      if (deadline.aborted) throw new Error(`not done within ${WAIT_MS} ms, was ${describe(last)}`)
      return { state: last?.state ?? 'none' }
    }
    case 'transfer-states': {
      const { deviceId } = request as SoakJobs['transfer-states']['job']
      const self = running()
      const unfinished = self
        .transfers()
        .filter((info) => info.deviceId === deviceId && !FINAL_STATES.has(info.state))
        .map(describe)
      const online = self.peers().some((peer) => peer.deviceId === deviceId && peer.online)
      return { online, unfinished, duplicateLinks: self.linkCounters().duplicates }
    }
    case 'take-file': {
      const { name, sha256 } = request as SoakJobs['take-file']['job']
      const path = join(downloads, name)
      const actual = await sha256Of(path)
      await rm(path)
      if (actual !== sha256) throw new Error(`received ${name} has SHA-256 ${actual}, sent ${sha256}`)
      return {}
    }
    case 'unpair': {
      const { deviceId } = request as SoakJobs['unpair']['job']
      await running().unpair(deviceId)
      return {}
    }
    case 'forgotten': {
      const { deviceId } = request as SoakJobs['forgotten']['job']
      const self = running()
      return until(self, ['device-removed'], () => self.devices().every((d) => d.deviceId !== deviceId))
    }
    case 'dht-join': {
      const { bootstrap } = request as SoakJobs['dht-join']['job']
      dhtNodes.push(await DhtNode.create({ host: '127.0.0.1', bootstrap, mode: 'server' }))
      return { nodes: dhtNodes.length }
    }
    case 'dht-leave': {
      await dhtNodes.shift()?.close()
      return { nodes: dhtNodes.length }
    }
    case 'sample':
      return sample()
    case 'exit': {
      await node?.close()
      await bootstrapNode?.close()
      await Promise.all(dhtNodes.map((dht) => dht.close()))
      setImmediate(() => process.disconnect())
      return {}
    }
  }
}

// An orchestrator that died without `exit` must not leave this process holding its sockets.
process.on('disconnect', () => process.exit(0))

process.on('message', (request: SoakRequest) => {
  handle(request).then(
    (result) => process.send!({ id: request.id, ok: true, result } satisfies SoakReply),
    (err: unknown) => {
      const code = err instanceof PairctlError ? err.code : 'ERROR'
      const message = err instanceof Error ? err.message : String(err)
      process.send!({ id: request.id, ok: false, code, message } satisfies SoakReply)
    },
  )
})
