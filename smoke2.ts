import { RelayStream } from './lib/relay/stream.js'
const orig = RelayStream.prototype.destroy
RelayStream.prototype.destroy = function (err?: Error) { console.log('destroy', err?.message, new Error().stack?.split('\n').slice(2,6).join('|')); return orig.call(this, err) }
const push = RelayStream.prototype.push
RelayStream.prototype.push = function (c: any) { console.log('push', c === null ? 'EOF' : c.length); return push.call(this, c) }
const w = (RelayStream.prototype as any)._write
;(RelayStream.prototype as any)._write = function (c: Buffer, e: any, cb: any) { console.log('write', c.length); return w.call(this, c, e, cb) }
const f = (RelayStream.prototype as any)._final
;(RelayStream.prototype as any)._final = function (cb: any) { console.log('final', new Error().stack?.split('\n').slice(2,9).join('|')); return f.call(this, cb) }
await import('./smoke.ts')
