import t from 'tap'
import { PairingError } from '../../lib/pairing/errors.js'
import type { HandshakeEvent } from '../../lib/pairing/handshake.js'
import { AdvertiserSession } from '../../lib/pairing/session.js'

const wrongGuess: HandshakeEvent = { type: 'failed', error: PairingError.wrongCode(), attempt: true }
const sas: HandshakeEvent = { type: 'sas', sas: '123456' }
const peer = {
  identityKey: new Uint8Array(32),
  deviceId: 'X',
  name: 'n',
  type: 't',
  presenceSecret: new Uint8Array(32),
}

t.test('one joiner at a time; a wrong guess burns the code with maxAttempts 1', async (t) => {
  const session = new AdvertiserSession({ expiresAt: 1000, maxAttempts: 1 })
  t.ok(session.admit())
  t.notOk(session.admit(), 'busy while handshaking')
  t.equal(session.handshakeEvent(wrongGuess, 10), 'end')
  t.equal(session.state, 'failed')
  t.equal(session.error?.code, 'PAIRING_CODE_BURNED')
  t.notOk(session.admit())
})

t.test('maxAttempts 3: two wrong guesses leave one, the third burns', async (t) => {
  const session = new AdvertiserSession({ expiresAt: 1000, maxAttempts: 3 })
  for (const remaining of [2, 1]) {
    session.admit()
    t.equal(session.handshakeEvent(wrongGuess, 10), 'retry')
    t.equal(session.remainingAttempts, remaining)
    t.equal(session.state, 'advertising')
  }
  session.admit()
  t.equal(session.handshakeEvent(wrongGuess, 10), 'end')
  t.equal(session.error?.code, 'PAIRING_CODE_BURNED')
})

t.test('failures that are not guesses free the session without spending an attempt', async (t) => {
  const session = new AdvertiserSession({ expiresAt: 1000, maxAttempts: 1 })
  for (const error of [PairingError.timeout('x'), PairingError.protocol('x'), PairingError.cancelled(true)]) {
    session.admit()
    t.equal(session.handshakeEvent({ type: 'failed', error, attempt: false }, 10), 'retry', error.code)
    t.equal(session.remainingAttempts, 1)
  }
})

t.test('after confirmation any failure ends the session; success pairs it', async (t) => {
  const failing = new AdvertiserSession({ expiresAt: 1000, maxAttempts: 1 })
  failing.admit()
  failing.handshakeEvent(sas, 10)
  t.equal(failing.state, 'confirming')
  t.equal(
    failing.handshakeEvent({ type: 'failed', error: PairingError.rejected(true), attempt: false }, 20),
    'end',
  )
  t.equal(failing.error?.code, 'PAIRING_REJECTED')
  const pairing = new AdvertiserSession({ expiresAt: 1000, maxAttempts: 1 })
  pairing.admit()
  pairing.handshakeEvent(sas, 10)
  t.equal(pairing.handshakeEvent({ type: 'paired', peer }, 20), 'end')
  t.equal(pairing.state, 'paired')
  t.equal(pairing.error, undefined)
})

t.test('expiry: only while advertising, and after a failure past the deadline', async (t) => {
  const session = new AdvertiserSession({ expiresAt: 1000, maxAttempts: 1 })
  t.equal(session.pollTimeout(), 1000)
  session.handleTimeout(999)
  t.equal(session.state, 'advertising')
  session.admit()
  t.equal(session.pollTimeout(), undefined)
  session.handleTimeout(1500)
  t.equal(session.state, 'handshaking', 'a joiner mid-handshake is not cut off')
  session.handshakeEvent({ type: 'failed', error: PairingError.timeout('x'), attempt: false }, 1500)
  t.equal(session.state, 'expired')
  t.equal(session.error?.code, 'PAIRING_EXPIRED')
  const idle = new AdvertiserSession({ expiresAt: 1000, maxAttempts: 1 })
  idle.handleTimeout(1000)
  t.equal(idle.state, 'expired')
})

t.test('cancel is final; late events are ignored', async (t) => {
  const session = new AdvertiserSession({ expiresAt: 1000, maxAttempts: 1 })
  session.admit()
  session.cancel()
  t.equal(session.state, 'cancelled')
  t.equal(session.handshakeEvent(sas, 10), 'end')
  t.equal(session.handshakeEvent({ type: 'paired', peer }, 10), 'end')
  t.equal(session.state, 'cancelled')
  t.equal(session.error?.code, 'PAIRING_CANCELLED')
})
