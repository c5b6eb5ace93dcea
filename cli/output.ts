import { PairctlError } from '../lib/errors.js'
import { jsonLine } from './text.js'

/** Where a command writes: stdout for results, stderr for errors; JSON lines or plain words. */
export interface Streams {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
}

/** A stream whose reader went away (`pairctl generate | head -2`): later writes are dropped, not fatal. */
const closedStreams = new WeakSet<NodeJS.WritableStream>()
const guarded = new WeakSet<NodeJS.WritableStream>()

/**
 * Makes a broken pipe on `stream` harmless (`spec/cli.md` §2): once the reader has gone, output is
 * dropped and the command goes on (a pairing whose code was printed can still complete).
 */
export function tolerateClosedReader(stream: NodeJS.WritableStream): void {
  if (guarded.has(stream)) return
  guarded.add(stream)
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
    closedStreams.add(stream)
  })
}

function write(stream: NodeJS.WritableStream, text: string): void {
  if (!closedStreams.has(stream)) stream.write(text)
}

/**
 * Command output (`spec/cli.md`). With `--json` every result and every progress event is one JSON object
 * with a `type` on its own line of stdout, and an error is `{"type":"error","code","message"}` on stdout
 * too, so a script reads one stream; without it, people get sentences on stdout and errors on stderr.
 */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly streams: Streams = { stdout: process.stdout, stderr: process.stderr },
  ) {}

  /** A machine-readable record (JSON mode) or its human rendering. */
  emit<R extends { type: string }>(record: R, human: () => string | null): void {
    if (this.json) write(this.streams.stdout, `${jsonLine(record)}\n`)
    else this.say(human())
  }

  /** Plain words for a person; nothing in JSON mode. */
  say(text: string | null): void {
    if (!this.json && text !== null) write(this.streams.stdout, `${text}\n`)
  }

  /** A note for a person on stderr (hints, countdowns), so it never mixes with results; none in JSON mode. */
  note(text: string): void {
    if (!this.json) write(this.streams.stderr, text)
  }

  /** A failure: the code and the message (which carries the next step). */
  error(err: unknown): void {
    const code = err instanceof PairctlError ? err.code : 'INTERNAL'
    const message = err instanceof Error ? err.message : String(err)
    if (this.json) write(this.streams.stdout, `${jsonLine({ type: 'error', code, message })}\n`)
    else write(this.streams.stderr, `pairctl: ${message}\n`)
  }
}
