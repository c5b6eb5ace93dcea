import { Command, K, WireError } from './constants.js'
import { type ByteText, bytesOf, textOf } from './endpoint.js'
import type { Message, ResponseBody } from './messages.js'
import { storageTarget } from './record.js'
import type { RoutingTable } from './routing.js'
import type { RecordStore } from './store.js'
import type { TokenIssuer } from './tokens.js'

/** What a request handler needs from the core: the stores it answers from. */
export interface ResponderContext {
  table: RoutingTable
  store: RecordStore
  tokens: TokenIssuer
}

/**
 * The server side of the four RPCs (`spec/dht.md` §5): computes the response body of a decoded,
 * rate-limited request from `from`. Pure apart from PUT writing to the store.
 */
export function respond(
  context: ResponderContext,
  request: Message,
  from: ByteText,
  source: string,
  now: number,
): ResponseBody {
  switch (request.c) {
    case Command.PING:
      return {}
    case Command.FIND_NODE:
      return { n: closerNodes(context.table, request.tg!, from, request.sk) }
    case Command.GET:
      return answerGet(context, request, from, now)
    case Command.PUT:
      return { e: answerPut(context, request, from, source, now) }
    default:
      return { e: WireError.UNKNOWN_COMMAND }
  }
}

/**
 * The k closest table entries to `target` after the `skip` closest (the second page a lookup asks
 * for when nodes died, §6.3), without the requester itself, as compact endpoints.
 */
function closerNodes(table: RoutingTable, target: Uint8Array, requester: ByteText, skip = 0): Uint8Array[] {
  const out: Uint8Array[] = []
  for (const entry of table.closest(textOf(target), K + 1 + skip).slice(skip)) {
    if (out.length === K) break
    if (entry.key !== requester) out.push(entry.wire)
  }
  return out
}

function answerGet(context: ResponderContext, request: Message, from: ByteText, now: number): ResponseBody {
  const records = context.store.get(request.ns!, request.k!, now, request.pk).slice(request.o ?? 0)
  return {
    n: closerNodes(context.table, storageTarget(request.ns!, request.k!), from, request.sk),
    tk: context.tokens.issue(bytesOf(from)),
    ...(records.length > 0 ? { rs: records } : {}),
  }
}

function answerPut(context: ResponderContext, request: Message, from: ByteText, source: string, now: number) {
  if (request.tk === undefined || !context.tokens.verify(bytesOf(from), request.tk))
    return WireError.BAD_TOKEN
  return context.store.put(request.ns!, request.k!, request.r!, source, now)
}
