/**
 * Relative paths in an offer (`spec/transfer.md` §4.2): what a path may contain, checked by the sender
 * before it offers and by the receiver before it writes anything, and the names a receiver picks so an
 * existing file is never overwritten.
 * @module
 */
import { lstat } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { MAX_NAME_BYTES, MAX_PATH_BYTES } from './constants.js'
import { TransferError } from './errors.js'

/** Names Windows reserves in any directory, with or without an extension. */
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
/** Characters that separate or mean something in paths on some system. */
const SEPARATORS = /[\\:*?"<>|]/

/**
 * Checks one relative path of an offer: `/`-separated components, none empty, `.` or `..`, none with
 * control characters, NUL, `\\ : * ? " < > |`, a trailing dot or space, or a reserved name; at most
 * {@link MAX_NAME_BYTES} per component and {@link MAX_PATH_BYTES} in all. Throws `TRANSFER_BAD_PATH`.
 */
export function checkRelativePath(path: string): string[] {
  if (path.length === 0) throw TransferError.badPath(path, 'empty')
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw TransferError.badPath(path, 'too long')
  if (path.startsWith('/')) throw TransferError.badPath(path, 'absolute paths are not allowed')
  if (CONTROL.test(path)) throw TransferError.badPath(path, 'control characters or NUL')
  const parts = path.split('/')
  for (const part of parts) checkName(path, part)
  return parts
}

function checkName(path: string, name: string): void {
  if (name === '' || name === '.') throw TransferError.badPath(path, 'empty component')
  if (name === '..') throw TransferError.badPath(path, '".." components are not allowed')
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw TransferError.badPath(path, 'a component is too long')
  if (SEPARATORS.test(name)) throw TransferError.badPath(path, 'a reserved character (\\ : * ? " < > |)')
  if (/[. ]$/.test(name)) throw TransferError.badPath(path, 'a component ends with a dot or a space')
  if (RESERVED.test(name)) throw TransferError.badPath(path, `"${name}" is a reserved name`)
}

/**
 * Checks a whole offer's paths together: each valid, none twice, and no file also used as a directory
 * (`a` and `a/b`), so the files land in one tree without clashes.
 */
export function checkPathSet(files: readonly string[], dirs: readonly string[]): void {
  const fileSet = new Set<string>()
  const dirSet = new Set(dirs)
  for (const dir of dirs) checkRelativePath(dir)
  for (const file of files) {
    const parts = checkRelativePath(file)
    if (fileSet.has(file) || dirSet.has(file)) throw TransferError.badPath(file, 'offered twice')
    fileSet.add(file)
    for (let i = 1; i < parts.length; i++) dirSet.add(parts.slice(0, i).join('/'))
  }
  for (const file of fileSet)
    if (dirSet.has(file)) throw TransferError.badPath(file, 'both a file and a directory')
}

/** `name`, or `name (1).ext`, `name (2).ext`… : the first that `taken` says is free. */
export async function freeName(dir: string, name: string, taken = exists): Promise<string> {
  const ext = extname(name)
  const stem = name.slice(0, name.length - ext.length)
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? name : `${stem} (${n})${ext}`
    if (!(await taken(join(dir, candidate)))) return candidate
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}
