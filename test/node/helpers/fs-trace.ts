import fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { dirname } from 'node:path'

/** One file-system call the code under test made, as {@link traceFs} saw it. */
export interface FsCall {
  op: 'open' | 'write' | 'sync' | 'rename' | 'link' | 'unlink' | 'mkdir'
  /** The path operated on; for handle calls, the path the handle was opened with. */
  path: string
  /** The destination of a rename or link. */
  to?: string
}

type Promises = typeof fs.promises
type FileHandle = Awaited<ReturnType<Promises['open']>>

/**
 * Records the file-system calls under `root` that go through `node:fs/promises` (path calls, and
 * write/sync of the handles it opens) until teardown of `t`. The real calls still run: each one
 * is only observed on its way through (`syncBuiltinESMExports` carries the wrappers into the named
 * imports of the modules under test).
 */
export async function traceFs(t: { teardown(fn: () => void): void }, root: string): Promise<FsCall[]> {
  const calls: FsCall[] = []
  const handles = new WeakMap<FileHandle, string>()
  const inside = (path: unknown) => typeof path === 'string' && path.startsWith(root)
  const promises = fs.promises
  const saved = {
    open: promises.open,
    rename: promises.rename,
    link: promises.link,
    unlink: promises.unlink,
    mkdir: promises.mkdir,
  }
  const probe = await saved.open(process.execPath, 'r')
  const handleProto = Object.getPrototypeOf(probe) as Record<'writeFile' | 'write' | 'sync', unknown>
  await probe.close()
  const savedHandle = { ...pick(handleProto) }

  promises.open = (async (...args: Parameters<Promises['open']>) => {
    const handle = await saved.open(...args)
    if (inside(args[0])) {
      handles.set(handle, String(args[0]))
      calls.push({ op: 'open', path: String(args[0]) })
    }
    return handle
  }) as Promises['open']
  for (const op of ['rename', 'link'] as const)
    promises[op] = (async (from: fs.PathLike, to: fs.PathLike) => {
      if (inside(to)) calls.push({ op, path: String(from), to: String(to) })
      return saved[op](from, to)
    }) as Promises['rename']
  promises.unlink = (async (path: fs.PathLike) => {
    if (inside(path)) calls.push({ op: 'unlink', path: String(path) })
    return saved.unlink(path)
  }) as Promises['unlink']
  promises.mkdir = (async (...args: Parameters<Promises['mkdir']>) => {
    if (inside(args[0])) calls.push({ op: 'mkdir', path: String(args[0]) })
    return saved.mkdir(...args)
  }) as Promises['mkdir']
  const traceHandle = (method: keyof typeof savedHandle, op: FsCall['op']) => {
    const original = savedHandle[method] as (this: FileHandle, ...args: unknown[]) => Promise<unknown>
    handleProto[method] = function (this: FileHandle, ...args: unknown[]) {
      const path = handles.get(this)
      if (path !== undefined) calls.push({ op, path })
      return original.apply(this, args)
    }
  }
  traceHandle('writeFile', 'write')
  traceHandle('write', 'write')
  traceHandle('sync', 'sync')
  syncBuiltinESMExports()

  t.teardown(() => {
    Object.assign(promises, saved)
    Object.assign(handleProto, savedHandle)
    syncBuiltinESMExports()
  })
  return calls
}

function pick(proto: Record<'writeFile' | 'write' | 'sync', unknown>) {
  return { writeFile: proto.writeFile, write: proto.write, sync: proto.sync }
}

/** Index of the first call at or after `from` that `match` accepts, or -1. */
function indexOf(calls: readonly FsCall[], match: (call: FsCall) => boolean, from = 0): number {
  for (let at = from; at < calls.length; at++) if (match(calls[at]!)) return at
  return -1
}

/** Index of the first fsync of directory `dir` after index `after`, or -1. */
export function directorySyncAfter(calls: readonly FsCall[], dir: string, after: number): number {
  return indexOf(calls, (call) => call.op === 'sync' && call.path === dir, after + 1)
}

/**
 * Checks that `final` was put in place durably, every time it was: by a `rename` or `link` of a
 * temporary file that was written and fsynced before, with the directory fsynced after the
 * move and after the temporary file's removal (before `final` is replaced again). Returns the number of
 * times `final` was put in place.
 */
export function assertDurableReplacements(
  t: { ok(value: unknown, message: string): void },
  calls: readonly FsCall[],
  final: string,
): number {
  let count = 0
  for (let moved = 0; ; moved++) {
    moved = indexOf(calls, (call) => (call.op === 'rename' || call.op === 'link') && call.to === final, moved)
    if (moved === -1) return count
    count++
    const { op, path: temp } = calls[moved]!
    const opened = indexOf(calls, (call) => call.op === 'open' && call.path === temp)
    const written = indexOf(calls, (call) => call.op === 'write' && call.path === temp, opened)
    const synced = indexOf(calls, (call) => call.op === 'sync' && call.path === temp, written)
    t.ok(
      opened !== -1 && written > opened && synced > written && synced < moved,
      `${final} #${count}: its temporary file was written and fsynced before the ${op}`,
    )
    const removed = indexOf(calls, (call) => call.op === 'unlink' && call.path === temp, moved)
    const directorySynced = directorySyncAfter(calls, dirname(final), removed === -1 ? moved : removed)
    const next = indexOf(
      calls,
      (call) => (call.op === 'rename' || call.op === 'link') && call.to === final,
      moved + 1,
    )
    t.ok(
      directorySynced !== -1 && (next === -1 || directorySynced < next),
      `${final} #${count}: the directory was fsynced after the ${op}${removed === -1 ? '' : ' and the unlink of the temporary file'}`,
    )
  }
}
