import createDebug from 'debug'

const debug = createDebug('pairctl:node')

/**
 * Everything a node owns that must be released (sockets, timers, adverts, port mappings), closed in the
 * reverse order of acquisition, each at most once, a failure in one not stopping the others.
 */
export class Resources {
  private readonly closers: { name: string; close: () => Promise<void> | void }[] = []

  /** Registers `close` to run at {@link Resources.closeAll}. */
  defer(name: string, close: () => Promise<void> | void): void {
    this.closers.push({ name, close })
  }

  /** Runs every registered closer, last first. */
  async closeAll(): Promise<void> {
    while (this.closers.length > 0) {
      const { name, close } = this.closers.pop()!
      try {
        await close()
      } catch (err) {
        debug('closing %s failed: %O', name, err)
      }
    }
  }
}
