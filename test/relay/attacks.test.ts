import t from 'tap'
import { channelsThrough, drain } from './helpers/channels.js'
import { MisbehavingCore, type Misdeed, startRelay } from './helpers/relays.js'

for (const misdeed of ['tamper', 'drop', 'replay'] as const satisfies Misdeed[]) {
  t.test(
    `a relay that does "${misdeed}" to a frame is detected by the channel, nothing bad is delivered`,
    async (t) => {
      const core = new MisbehavingCore()
      const { address } = await startRelay(t, { core })
      const [dialer, listener] = await channelsThrough(t, address)
      const reading = drain(listener)
      await dialer.send(Buffer.from('before'))
      // Wait for delivery, so that the misdeed hits the next frame, not this one.
      await new Promise((resolve) => setTimeout(resolve, 200))
      core.arm(misdeed)
      await dialer.send(Buffer.from('target')).catch(() => {})
      // A later turn of the event loop, so that 'after' leaves in a WebSocket message of its own.
      await new Promise((resolve) => setTimeout(resolve, 200))
      // The listener may have failed the channel already, cutting the circuit under this send.
      await dialer.send(Buffer.from('after')).catch(() => {})
      const { delivered, error } = await reading
      t.ok(core.done, 'the relay did it')
      t.same(delivered, ['before'], 'only the frame before the misdeed was delivered')
      t.match(error, { code: 'NOISE_DECRYPT_FAILED', remote: true }, 'a typed error names the failure')
    },
  )
}

t.test('a relay shutting down mid-session fails the channel with its close code', async (t) => {
  const { server, address } = await startRelay(t)
  const [dialer, listener] = await channelsThrough(t, address)
  const reading = drain(listener)
  await dialer.send(Buffer.from('only'))
  await new Promise((resolve) => setTimeout(resolve, 200))
  await server.close()
  const { delivered, error } = await reading
  t.same(delivered, ['only'])
  t.match(
    error,
    { code: 'CHANNEL_IO', cause: { code: 'RELAY_CLOSED', closeCode: 1001 } },
    'the relay said it shut down',
  )
})
