import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import type { TransferInfo, Transfers } from '../../../lib/transfer/index.js'

/** SHA-256 hex of a file's content. */
export async function fileHash(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex')
}

/** Writes `size` random bytes to `path`. */
export async function randomFile(path: string, size: number): Promise<void> {
  const parts: Buffer[] = []
  for (let left = size; left > 0; left -= 16 << 20) parts.push(randomBytes(Math.min(left, 16 << 20)))
  await writeFile(path, Buffer.concat(parts))
}

/** Every file under `dir` as relative path → SHA-256 (skipping `skip` names at the top). */
export async function treeHashes(dir: string, skip: string[] = []): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const walk = async (current: string) => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name)
      if (current === dir && skip.includes(entry.name)) continue
      if (entry.isDirectory()) await walk(path)
      else out[relative(dir, path)] = `${(await stat(path)).size}:${await fileHash(path)}`
    }
  }
  await walk(dir)
  return out
}

/** A small tree: nested directories, an empty file, an empty directory, sizes around the chunk size. */
export async function makeTree(root: string): Promise<void> {
  await mkdir(join(root, 'sub/deeper'), { recursive: true })
  await mkdir(join(root, 'empty-dir'), { recursive: true })
  await writeFile(join(root, 'empty.txt'), '')
  await writeFile(join(root, 'small.txt'), 'hello\n')
  await randomFile(join(root, 'sub/exact-chunk.bin'), 1024 * 1024)
  await randomFile(join(root, 'sub/deeper/chunk-plus-one.bin'), 1024 * 1024 + 1)
}

/** Resolves with the first change of `transfers` that `match` accepts. */
export function changed(transfers: Transfers, match: (info: TransferInfo) => boolean): Promise<TransferInfo> {
  return new Promise((resolve) => {
    const on = (info: TransferInfo) => {
      if (!match(info)) return
      transfers.off('changed', on)
      resolve(info)
    }
    transfers.on('changed', on)
  })
}

/** The last state a followed transfer reaches. */
export async function finalState(events: AsyncIterable<TransferInfo>): Promise<TransferInfo> {
  let last: TransferInfo | undefined
  for await (const info of events) last = info
  return last!
}
