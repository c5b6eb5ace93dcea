import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { encodeCbor } from '../../lib/cbor.js'
import {
  checkPathSet,
  checkRelativePath,
  decodeManifest,
  freeName,
  scanSources,
} from '../../lib/transfer/index.js'

const refused: [string, string][] = [
  ['../etc/passwd', 'a ".." component'],
  ['a/../../b', 'a ".." inside'],
  ['/etc/passwd', 'an absolute path'],
  ['a\u0000b', 'NUL'],
  ['bad\nname', 'a newline'],
  ['esc\u001b[31m', 'an escape sequence'],
  ['CON', 'a reserved name'],
  ['dir/nul.txt', 'a reserved name with an extension'],
  ['trailing.', 'a trailing dot'],
  ['a\\b', 'a backslash'],
  ['c:evil', 'a colon'],
  ['a//b', 'an empty component'],
  ['', 'an empty path'],
  [`${'x'.repeat(256)}`, 'a 256-byte name'],
]

for (const [path, what] of refused)
  t.test(`a path with ${what} is refused with TRANSFER_BAD_PATH`, async (t) => {
    t.throws(() => checkRelativePath(path), { code: 'TRANSFER_BAD_PATH' })
  })

t.test('ordinary names pass, unicode included', async (t) => {
  t.same(checkRelativePath('photos/2024/été.jpg'), ['photos', '2024', 'été.jpg'])
  t.same(checkRelativePath('.config'), ['.config'])
})

t.test('an offer naming one path twice, or a file that is also a directory, is refused', async (t) => {
  t.throws(() => checkPathSet(['a', 'a'], []), { code: 'TRANSFER_BAD_PATH' })
  t.throws(() => checkPathSet(['a', 'a/b'], []), { code: 'TRANSFER_BAD_PATH' })
  t.throws(() => checkPathSet(['a'], ['a']), { code: 'TRANSFER_BAD_PATH' })
})

t.test('a manifest with a bad path or the wrong number of hashes is refused', async (t) => {
  const manifest = (path: string, hashes: number) =>
    encodeCbor({
      v: 1,
      chunkSize: 1024 * 1024,
      files: [{ path, size: 10, mode: 0o644, hashes: new Uint8Array(32 * hashes) }],
      dirs: [],
    })
  t.equal(decodeManifest(manifest('ok.txt', 1)).files[0]?.path, 'ok.txt')
  t.throws(() => decodeManifest(manifest('../x', 1)), { code: 'TRANSFER_BAD_PATH' })
  t.throws(() => decodeManifest(manifest('ok.txt', 2)), { code: 'TRANSFER_BAD_OFFER' })
  t.throws(() => decodeManifest(Uint8Array.of(0xff)), { code: 'TRANSFER_BAD_OFFER' })
})

t.test('a free name never replaces what exists: name (1).ext, name (2).ext', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pairctl-names-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  t.equal(await freeName(dir, 'report.pdf'), 'report.pdf')
  await writeFile(join(dir, 'report.pdf'), 'x')
  t.equal(await freeName(dir, 'report.pdf'), 'report (1).pdf')
  await writeFile(join(dir, 'report (1).pdf'), 'x')
  t.equal(await freeName(dir, 'report.pdf'), 'report (2).pdf')
  await mkdir(join(dir, 'photos'))
  t.equal(await freeName(dir, 'photos'), 'photos (1)')
})

t.test('a directory is sent without its symbolic links: nothing outside the tree leaves', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pairctl-scan-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await mkdir(join(dir, 'tree/sub'), { recursive: true })
  await writeFile(join(dir, 'secret'), 'outside')
  await writeFile(join(dir, 'tree/sub/a.txt'), 'inside')
  await symlink(join(dir, 'secret'), join(dir, 'tree/escape'))
  await symlink('/etc', join(dir, 'tree/sub/etc'))
  const scanned = await scanSources([join(dir, 'tree')])
  t.same(
    scanned.manifest.files.map((file) => file.path),
    ['tree/sub/a.txt'],
  )
  t.same(scanned.skipped.sort(), ['tree/escape', 'tree/sub/etc'])
  t.same(scanned.manifest.dirs, ['tree', 'tree/sub'])
})

t.test('a local file whose name the receiver would refuse is not offered', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pairctl-scan-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'bad\u0007name'), 'x')
  await t.rejects(scanSources([join(dir, 'bad\u0007name')]), { code: 'TRANSFER_BAD_PATH' })
})
