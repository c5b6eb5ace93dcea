/**
 * A sans-I/O STUN server answering Binding requests (RFC 8489 §6.3, RFC 5780 §6) so a pairctl
 * bootstrap node doubles as a STUN server, on its own sockets or on the socket it shares with the
 * DHT ({@link isStunMessage} demultiplexes). Classic RFC 3489 clients (no magic cookie) get
 * MAPPED-ADDRESS, SOURCE-ADDRESS and CHANGED-ADDRESS (RFC 8489 §12). Spec: `spec/stun.md` §6.
 * @module
 */
import { ipToBytes } from '../addresses/ip.js'
import { type Endpoint, encodeAddress } from './address.js'
import { decodeChangeRequest, encodeErrorCode, encodeText, encodeUnknownAttributes } from './attributes.js'
import {
  Attr,
  COMPREHENSION_OPTIONAL_MIN,
  ErrorCode,
  MAGIC_COOKIE,
  SOFTWARE,
  StunClass,
  StunMethod,
} from './constants.js'
import { addFingerprint, verifyFingerprint } from './integrity.js'
import {
  type DecodedMessage,
  encodeMessage,
  findAttribute,
  type StunAttribute,
  significantAttributes,
  tryDecodeMessage,
} from './message.js'

/**
 * Comprehension-required attributes the server accepts in a request. Credentials are ignored (the
 * server does not authenticate Binding); RESPONSE-PORT, PADDING and RFC 3489 RESPONSE-ADDRESS are
 * unsupported (answered with 420 Unknown Attribute, RFC 8489 §14.8).
 */
const UNDERSTOOD: ReadonlySet<number> = new Set([
  Attr.changeRequest,
  Attr.username,
  Attr.messageIntegrity,
  Attr.messageIntegritySha256,
  Attr.realm,
  Attr.nonce,
  Attr.userhash,
  Attr.passwordAlgorithm,
])

/** Options of {@link StunServer}. */
export interface StunServerOptions {
  /** The primary transport address (the one clients are told about). */
  primary: Endpoint
  /** RFC 5780 §6: the alternate IP and/or port; with both, all four combinations are served. */
  alternate?: { host?: string; port?: number }
  /** SOFTWARE value; default `pairctl`, `null` for none. */
  software?: string | null
}

/** A response and the local endpoint it must leave from (differs from the receiving one for CHANGE-REQUEST). */
export interface StunReply {
  bytes: Uint8Array
  source: Endpoint
  to: Endpoint
}

/** Requests answered and datagrams dropped, for `status` and tests. */
export interface StunServerCounters {
  answered: number
  errors: number
  dropped: number
}

/** The server core. Stateless per request; only counters persist. */
export class StunServer {
  readonly primary: Endpoint
  readonly alternate: { host: string | undefined; port: number | undefined }
  readonly counters: StunServerCounters = { answered: 0, errors: 0, dropped: 0 }
  readonly #software: Uint8Array | null

  constructor(options: StunServerOptions) {
    this.primary = options.primary
    this.alternate = { host: options.alternate?.host, port: options.alternate?.port }
    const software = options.software === undefined ? SOFTWARE : options.software
    this.#software = software === null ? null : encodeText(software)
  }

  /** The local endpoints to listen on: {primary, alternate host} × {primary, alternate port}. */
  localEndpoints(): Endpoint[] {
    const hosts = [this.primary.host, ...(this.alternate.host ? [this.alternate.host] : [])]
    const ports = [this.primary.port, ...(this.alternate.port ? [this.alternate.port] : [])]
    return hosts.flatMap((host) => ports.map((port) => ({ host, port })))
  }

  /**
   * Answers one datagram received on `local` from `from` (multi-socket server, RFC 5780). Returns
   * `null` for anything that is not a Binding request worth answering (dropped and counted).
   */
  respond(bytes: Uint8Array, from: Endpoint, local: Endpoint = this.primary): StunReply | null {
    return this.#answer(bytes, from, local, true)
  }

  /**
   * Answers one datagram on a single socket (e.g. shared with the DHT, or TCP): the reply always
   * leaves from `local`, so a CHANGE-REQUEST asking for another address gets 420. With `maxReplyBytes`
   * (a port that must not amplify), a reply over it goes without SOFTWARE and the optional addresses,
   * and one still over it is dropped.
   */
  handle(
    bytes: Uint8Array,
    from: Endpoint,
    local: Endpoint = this.primary,
    maxReplyBytes = Number.POSITIVE_INFINITY,
  ): Uint8Array | null {
    return this.#answer(bytes, from, local, false, maxReplyBytes)?.bytes ?? null
  }

  #answer(
    bytes: Uint8Array,
    from: Endpoint,
    local: Endpoint,
    canChange: boolean,
    maxReplyBytes = Number.POSITIVE_INFINITY,
  ): StunReply | null {
    const request = tryDecodeMessage(bytes, { allowClassic: true })
    if (!request || request.cls !== StunClass.request || !fingerprintOk(request)) {
      this.counters.dropped++
      return null
    }
    const error = this.#check(request, canChange)
    const source = error ? local : this.#source(request, local)
    const full = this.#encode(request, from, source, error, false)
    const reply = full.length <= maxReplyBytes ? full : this.#encode(request, from, source, error, true)
    if (reply.length > maxReplyBytes) {
      this.counters.dropped++
      return null
    }
    this.counters[error ? 'errors' : 'answered']++
    return { bytes: reply, source, to: from }
  }

  /** RFC 8489 §6.3.1 checks; returns the error to send, or null when the request is acceptable. */
  #check(request: DecodedMessage, canChange: boolean): StunAttribute[] | null {
    if (request.method !== StunMethod.binding) return errorAttributes(ErrorCode.badRequest, 'Bad Request')
    const unknown = significantAttributes(request.attributes)
      .map((a) => a.type)
      .filter((t) => t < COMPREHENSION_OPTIONAL_MIN && !UNDERSTOOD.has(t))
    if (!this.#canHonourChange(request, canChange)) unknown.push(Attr.changeRequest)
    if (unknown.length === 0) return null
    const attrs = errorAttributes(ErrorCode.unknownAttribute, 'Unknown Attribute')
    return [...attrs, { type: Attr.unknownAttributes, value: encodeUnknownAttributes([...new Set(unknown)]) }]
  }

  /** RFC 5780 §6.1: a CHANGE-REQUEST needing an address or port we lack cannot be honoured. */
  #canHonourChange(request: DecodedMessage, canChange: boolean): boolean {
    const attribute = findAttribute(request, Attr.changeRequest)
    if (!attribute) return true
    const change = safeChange(attribute.value)
    if (!change) return false
    if (!change.ip && !change.port) return true
    return (
      canChange &&
      (!change.ip || this.alternate.host !== undefined) &&
      (!change.port || !!this.alternate.port)
    )
  }

  /** The local endpoint the success response leaves from, after CHANGE-REQUEST flips. */
  #source(request: DecodedMessage, local: Endpoint): Endpoint {
    const attribute = findAttribute(request, Attr.changeRequest)
    const change = attribute ? safeChange(attribute.value) : null
    const other = this.#other(local)
    return { host: change?.ip ? other.host : local.host, port: change?.port ? other.port : local.port }
  }

  /** RFC 5780 §7.4: the address differing in IP and port (whichever alternates exist) from `local`. */
  #other(local: Endpoint): Endpoint {
    const { host, port } = this.alternate
    const otherHost = host === undefined ? local.host : local.host === host ? this.primary.host : host
    const otherPort = port === undefined ? local.port : local.port === port ? this.primary.port : port
    return { host: otherHost, port: otherPort }
  }

  /** The response; `minimal`: only what the client needs, the (XOR-)MAPPED-ADDRESS or the error. */
  #encode(
    request: DecodedMessage,
    to: Endpoint,
    source: Endpoint,
    error: StunAttribute[] | null,
    minimal: boolean,
  ): Uint8Array {
    const classic = request.cookie !== MAGIC_COOKIE
    const attributes = error ? [...error] : this.#successAttributes(request, to, source, classic, minimal)
    if (this.#software !== null && !minimal) attributes.push({ type: Attr.software, value: this.#software })
    const cls = error ? StunClass.errorResponse : StunClass.successResponse
    const bytes = encodeMessage({ ...request, cls, attributes })
    return classic ? bytes : addFingerprint(bytes)
  }

  #successAttributes(
    request: DecodedMessage,
    to: Endpoint,
    source: Endpoint,
    classic: boolean,
    minimal: boolean,
  ): StunAttribute[] {
    const other = this.#other(source)
    const hasOther = other.host !== source.host || other.port !== source.port
    const attrs: StunAttribute[] = classic
      ? [{ type: Attr.mappedAddress, value: encodeAddress(to) }]
      : [{ type: Attr.xorMappedAddress, value: encodeAddress(to, request.transactionId) }]
    if (minimal) return attrs
    if (isSpecific(source.host)) {
      attrs.push({ type: classic ? Attr.sourceAddress : Attr.responseOrigin, value: encodeAddress(source) })
    }
    if (hasOther && isSpecific(other.host)) {
      attrs.push({ type: classic ? Attr.changedAddress : Attr.otherAddress, value: encodeAddress(other) })
    }
    return attrs
  }
}

function errorAttributes(code: number, reason: string): StunAttribute[] {
  return [{ type: Attr.errorCode, value: encodeErrorCode(code, reason) }]
}

function fingerprintOk(message: DecodedMessage): boolean {
  return !findAttribute(message, Attr.fingerprint) || verifyFingerprint(message)
}

function safeChange(value: Uint8Array): { ip: boolean; port: boolean } | null {
  try {
    return decodeChangeRequest(value)
  } catch {
    return null
  }
}

/** A wildcard bind address (0.0.0.0, ::) says nothing useful to a client: such addresses are omitted. */
function isSpecific(host: string): boolean {
  const bytes = ipToBytes(host)
  return bytes?.some((b) => b !== 0) ?? false
}
