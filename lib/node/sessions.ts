import { ControlError } from '../control/errors.js'
import type { MethodParams } from '../control/protocol.js'
import type { PairctlNode } from './node.js'
import type { PairingRequest, PairingRun } from './pairing-run.js'

type GenerateParams = MethodParams<'pairing.generate'>

/**
 * The daemon's pairings in progress, by session ID (`spec/control.md` §4.3). A session started with
 * `confirm` waits, after its `sas` event, for a `pairing.confirm` call from a client.
 */
export class PairingSessions {
  private readonly runs = new Map<string, PairingRun>()
  private readonly confirmations = new Map<string, (accept: boolean) => void>()

  constructor(private readonly node: PairctlNode) {}

  /** Starts `node.generate`; returns the session ID. */
  generate(params: GenerateParams): string {
    return this.track((request) => this.node.generate(request), params)
  }

  /** Starts `node.join(code)`; returns the session ID. */
  join(code: string, params: Omit<GenerateParams, 'words'>): string {
    return this.track((request) => this.node.join(code, request), params)
  }

  /** Answers the SAS question of a session. */
  confirm(sessionId: string, accept: boolean): void {
    const answer = this.confirmations.get(sessionId)
    if (answer === undefined) throw unknownSession(sessionId, 'is not waiting for a confirmation')
    this.confirmations.delete(sessionId)
    answer(accept)
  }

  /** Cancels a session. */
  cancel(sessionId: string): void {
    const run = this.runs.get(sessionId)
    if (run === undefined) throw unknownSession(sessionId, 'is not in progress')
    run.cancel()
  }

  /** Cancels every session and waits until each has ended. */
  async cancelAll(): Promise<void> {
    const runs = [...this.runs.values()]
    for (const run of runs) run.cancel()
    await Promise.allSettled(runs.map((run) => run.result))
  }

  private track(start: (request: PairingRequest) => PairingRun, params: GenerateParams): string {
    let sessionId = ''
    const confirm = (_sas: string) =>
      new Promise<boolean>((resolve) => this.confirmations.set(sessionId, resolve))
    const run = start({
      words: params.words,
      timeoutMs: params.timeoutMs,
      confirm: params.confirm ? confirm : undefined,
    })
    sessionId = run.sessionId
    this.runs.set(sessionId, run)
    const forget = () => {
      this.runs.delete(sessionId)
      this.confirmations.get(sessionId)?.(false)
      this.confirmations.delete(sessionId)
    }
    run.result.then(forget, forget)
    return sessionId
  }
}

function unknownSession(sessionId: string, state: string): ControlError {
  return new ControlError('CONTROL_UNKNOWN_SESSION', `pairing session ${sessionId} ${state}`)
}
