import { readFile } from 'node:fs/promises'
import createDebug from 'debug'
import { DhtNode } from '../dht/node.js'
import type { SavedTable } from '../dht/routing.js'
import { hasCode } from '../errors.js'
import { replaceFile, setAside } from '../files.js'
import type { DhtOpener, NetworkDht } from './network.js'

const debug = createDebug('pairctl:node:dht')

/** The routing table saved in the instance directory between runs (`spec/control.md` §1). */
export const ROUTING_TABLE_FILE = 'routing-table.json'

/**
 * How long opening waits for the join. A reachable network joins in well under a second; when no seed
 * answers, the DHT retries for about 25 s and then rejoins on every refresh (`spec/dht.md` §9), and the
 * node must not be held up that long (`pairctl start` gives its daemon 20 s).
 */
export const JOIN_WAIT_MS = 5_000

/**
 * Opens the node's `lib/dht` node (`spec/dht.md` §11) with the routing table saved by the previous run,
 * and waits for its join lookup (at most {@link JOIN_WAIT_MS}), so that the first pairing already finds
 * peers. A node whose seeds do not answer starts alone and keeps trying to join. A node without bootstrap
 * entries or a saved table is the first node of its own network. The table is saved again on close.
 */
export const openDht: DhtOpener = async ({ host, port, bootstrap, tablePath, keepOwnRecords }) => {
  const node = await createDhtNode({ host, port, bootstrap, keepOwnRecords }, tablePath)
  await joinedWithin(node, JOIN_WAIT_MS)
  return adapt(node, tablePath)
}

async function joinedWithin(node: DhtNode, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
  })
  const joined = node.ready().then(
    () => debug('joined the DHT'),
    (err: Error) => debug('joining the DHT: %s; running alone until a seed answers', err.message),
  )
  await Promise.race([joined, waited])
  clearTimeout(timer)
}

/** The DHT node as {@link NetworkDht}; `raw` keeps the node for STUN sharing its port (bootstrap mode). */
export function adapt(node: DhtNode, tablePath?: string): NetworkDht & { raw: DhtNode } {
  return {
    raw: node,
    get: (namespace, key, options) => node.get(namespace, key, options),
    publish: (namespace, key, value, options) => node.publish(namespace, key, value, options),
    address: () => node.address(),
    routingTableSize: () => node.stats().tableSize,
    externalAddress: () => node.externalAddress(),
    addLinkPeer: (address) => node.addLinkPeer(address),
    close: async () => {
      if (tablePath !== undefined)
        await saveTable(tablePath, node).catch((err) => debug('saving table: %O', err))
      await node.close()
    },
  }
}

type CreateOptions = { host: string; port: number; bootstrap: string[]; keepOwnRecords: boolean }

/** A saved table that does not load (corrupt, or from an incompatible version) is set aside, not fatal. */
async function createDhtNode(options: CreateOptions, tablePath: string | undefined): Promise<DhtNode> {
  const routingTable = tablePath === undefined ? undefined : await readTable(tablePath)
  if (routingTable === undefined) return DhtNode.create(options)
  try {
    return await DhtNode.create({ ...options, routingTable })
  } catch (err) {
    if (!hasCode(err, 'DHT_BAD_TABLE')) throw err
    await setTableAside(tablePath!, err)
    return DhtNode.create(options)
  }
}

/** The saved table as stored; `DhtNode.create` validates it (`DHT_BAD_TABLE`). */
async function readTable(path: string): Promise<SavedTable | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return undefined
  }
  try {
    return JSON.parse(text) as SavedTable
  } catch (err) {
    await setTableAside(path, err)
    return undefined
  }
}

/** Keeps a table that did not load as `<file>.corrupt-<time>` for inspection; the node starts without it. */
async function setTableAside(path: string, reason: unknown): Promise<void> {
  debug('saved routing table %s not used: %O', path, reason)
  await setAside(path).catch(() => undefined)
}

/** Written durably (`lib/files.ts`), so a crash never leaves half a table. */
async function saveTable(path: string, node: DhtNode): Promise<void> {
  await replaceFile(path, `${JSON.stringify(node.exportRoutingTable())}\n`)
}
