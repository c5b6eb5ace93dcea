/**
 * The daemon's control API (`spec/control.md`): WebSocket over a Unix socket, JSON messages checked
 * with zod, versioned by URL path and hello.
 * @module
 */
export { AsyncQueue } from './async-queue.js'
export { ControlClient, type ControlEvent } from './client.js'
export * from './constants.js'
export { dispatch } from './dispatcher.js'
export { ControlError } from './errors.js'
export * from './protocol.js'
export { ControlServer, type ControlServerOptions } from './server.js'
