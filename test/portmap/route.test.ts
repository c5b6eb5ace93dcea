/** Default gateway from /proc/net/route (spec/portmap.md §2). */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { defaultGateway, parseDefaultGateway } from '../../lib/portmap/route.js'

const HEADER = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT'
const HOST_A = `${HEADER}\neth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n`

t.test('reads the default route of the lab host (192.168.1.1, little-endian hex)', async (t) => {
  t.equal(parseDefaultGateway(HOST_A), '192.168.1.1')
})

t.test('no default route, a down route, or garbage gives null', async (t) => {
  t.equal(
    parseDefaultGateway(`${HEADER}\neth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n`),
    null,
  )
  t.equal(
    parseDefaultGateway(`${HEADER}\neth0\t00000000\t0101A8C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n`),
    null,
  )
  t.equal(parseDefaultGateway(`${HEADER}\neth0\t00000000\tZZZZ\t0003\n`), null)
  t.equal(parseDefaultGateway(''), null)
})

t.test('defaultGateway reads a file and fails with PORTMAP_NO_GATEWAY', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pctl-route-'))
  t.teardown(() => rm(dir, { recursive: true }))
  await writeFile(join(dir, 'route'), HOST_A)
  t.equal(await defaultGateway(join(dir, 'route')), '192.168.1.1')
  await writeFile(join(dir, 'none'), HEADER)
  await t.rejects(defaultGateway(join(dir, 'none')), { code: 'PORTMAP_NO_GATEWAY' })
  await t.rejects(defaultGateway(join(dir, 'missing')), { code: 'PORTMAP_NO_GATEWAY' })
})
