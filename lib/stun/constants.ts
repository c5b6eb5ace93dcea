/**
 * Wire constants of STUN (RFC 8489) and its NAT behaviour discovery extension (RFC 5780), plus the
 * classic RFC 3489 attributes the server still answers old clients with. Spec: `spec/stun.md` §2.
 * @module
 */

/** RFC 8489 §5: the fixed value in bytes 4..7 of every RFC 5389/8489 message. */
export const MAGIC_COOKIE = 0x2112a442

/** RFC 8489 §5: a header is 20 bytes: type (2), length (2), cookie (4), transaction id (12). */
export const HEADER_LENGTH = 20

/** RFC 8489 §5: transaction id length in bytes (96 bits). */
export const TRANSACTION_ID_LENGTH = 12

/** RFC 8489 §14.7: FINGERPRINT is CRC-32 XORed with this value. */
export const FINGERPRINT_XOR = 0x5354554e

/** RFC 8489 §5: message classes, as the two class bits C1 C0. */
export const StunClass = {
  request: 0b00,
  indication: 0b01,
  successResponse: 0b10,
  errorResponse: 0b11,
} as const
export type StunClass = (typeof StunClass)[keyof typeof StunClass]

/** RFC 8489 §18.2: STUN methods. Only Binding is defined by STUN itself. */
export const StunMethod = {
  binding: 0x001,
} as const

/** RFC 8489 §18.3 and RFC 5780 §7 attribute types; RFC 3489 §11.2 types for classic clients. */
export const Attr = {
  mappedAddress: 0x0001,
  /** RFC 3489 only (classic clients). */
  responseAddress: 0x0002,
  changeRequest: 0x0003,
  /** RFC 3489 only: the server's sending address, superseded by RESPONSE-ORIGIN. */
  sourceAddress: 0x0004,
  /** RFC 3489 only: superseded by OTHER-ADDRESS. */
  changedAddress: 0x0005,
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  unknownAttributes: 0x000a,
  realm: 0x0014,
  nonce: 0x0015,
  messageIntegritySha256: 0x001c,
  passwordAlgorithm: 0x001d,
  userhash: 0x001e,
  xorMappedAddress: 0x0020,
  padding: 0x0026,
  responsePort: 0x0027,
  passwordAlgorithms: 0x8002,
  alternateDomain: 0x8003,
  software: 0x8022,
  alternateServer: 0x8023,
  cacheTimeout: 0x8027,
  fingerprint: 0x8028,
  responseOrigin: 0x802b,
  otherAddress: 0x802c,
} as const

/** RFC 8489 §14: types 0x0000-0x7FFF are comprehension-required, 0x8000-0xFFFF optional. */
export const COMPREHENSION_OPTIONAL_MIN = 0x8000

/** RFC 8489 §14.1 / §14.2: address family byte of (XOR-)MAPPED-ADDRESS. */
export const AddressFamily = { ipv4: 0x01, ipv6: 0x02 } as const

/** RFC 5780 §7.2: CHANGE-REQUEST flag bits. */
export const CHANGE_IP = 0x04
export const CHANGE_PORT = 0x02

/** RFC 8489 §14.8 error codes used by pairctl. */
export const ErrorCode = {
  tryAlternate: 300,
  badRequest: 400,
  unauthenticated: 401,
  unknownAttribute: 420,
  staleNonce: 438,
  serverError: 500,
} as const

/** RFC 8489 §14.10 / §14.11: MESSAGE-INTEGRITY is HMAC-SHA1 (20 bytes), the SHA-256 one 32 bytes. */
export const MESSAGE_INTEGRITY_LENGTH = 20
export const MESSAGE_INTEGRITY_SHA256_LENGTH = 32

/** RFC 8489 §6.2.1: initial retransmission timeout (ms). */
export const DEFAULT_RTO_MS = 500
/** RFC 8489 §6.2.1: Rc, the number of requests sent before giving up. */
export const DEFAULT_RC = 7
/** RFC 8489 §6.2.1: Rm, the last wait is Rm × RTO. */
export const DEFAULT_RM = 16
/** RFC 8489 §6.2.2: Ti, the TCP transaction timeout (ms). */
export const TCP_TIMEOUT_MS = 39_500

/** RFC 8489 §18.4: the default STUN port over UDP and TCP. */
export const DEFAULT_PORT = 3478

/** The SOFTWARE value pairctl sends (RFC 8489 §14.14). */
export const SOFTWARE = 'pairctl'

/** Every attribute type pairctl understands; comprehension-required types outside it are "unknown". */
export const KNOWN_ATTRIBUTES: ReadonlySet<number> = new Set(Object.values(Attr))
