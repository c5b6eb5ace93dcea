import { encodeCbor } from '../../../lib/cbor.js'
import { Ed25519KeyPair, toHex } from '../../../lib/crypto/index.js'
import {
  ANNOUNCE_KEY,
  encodeAnnouncement,
  encodeClientMessage,
  encodeRelayMessage,
  encodeToken,
  reconnectToken,
} from '../../../lib/relay/index.js'

/** Fixed inputs of spec/vectors/relay.json. */
export const INPUTS = {
  presenceSecret: new Uint8Array(32).fill(0x11),
  listenerSeed: new Uint8Array(32).fill(0x22),
  pairingToken: Uint8Array.from({ length: 32 }, (_, i) => i),
  circuit: Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i),
  announced: [{ host: '203.0.113.5', port: 4433 }],
}

/** spec/vectors/relay.json as lib/relay computes it. */
export function computeVectors() {
  const listener = Ed25519KeyPair.fromSeed(INPUTS.listenerSeed).publicKey
  const token = reconnectToken(INPUTS.presenceSecret, listener)
  const tk = INPUTS.pairingToken
  return {
    reconnectToken: {
      presenceSecret: toHex(INPUTS.presenceSecret),
      listenerIdentityKey: toHex(listener),
      token: toHex(token),
    },
    pairingToken: { bytes: toHex(tk), text: encodeToken(tk) },
    messages: {
      reserve: toHex(encodeClientMessage({ v: 1, t: 'reserve', tks: [token, tk] })),
      connect: toHex(encodeClientMessage({ v: 1, t: 'connect', tk: token })),
      accept: toHex(encodeClientMessage({ v: 1, t: 'accept', c: INPUTS.circuit })),
      reserved: toHex(encodeRelayMessage({ v: 1, t: 'reserved', ttl: 600_000 })),
      incoming: toHex(encodeRelayMessage({ v: 1, t: 'incoming', c: INPUTS.circuit, tk: token })),
      connected: toHex(encodeRelayMessage({ v: 1, t: 'connected' })),
    },
    advertAddress: toHex(
      encodeCbor({ host: '203.0.113.5', port: 4433, transport: 'relay', token: encodeToken(tk) }),
    ),
    announcement: {
      key: toHex(ANNOUNCE_KEY),
      addresses: INPUTS.announced,
      value: toHex(encodeAnnouncement(INPUTS.announced)),
    },
  }
}
