/**
 * Runs pairctl's STUN server in its own process for the benchmark (coturn runs in its own process
 * too, so neither shares an event loop with the load generator). Prints the bound port, then
 * serves until killed.
 */
import { startStunServer } from '../../lib/stun/index.js'

const server = await startStunServer({ primary: { host: '127.0.0.1', port: 0 }, tcp: false })
process.stdout.write(`${server.primary.port}\n`)
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0))
})
