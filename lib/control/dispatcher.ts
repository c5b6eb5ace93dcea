import createDebug from 'debug'
import { PairctlError } from '../errors.js'
import { ControlError } from './errors.js'
import {
  isMethodName,
  MAX_ERROR_MESSAGE_LENGTH,
  METHODS,
  type MethodHandlers,
  RequestMessage,
  type ResponseMessage,
} from './protocol.js'

const debug = createDebug('pairctl:control')

/**
 * The daemon's request handling without any socket (`spec/control.md` §3): parses one text message,
 * validates it and its params, runs the handler and returns the response to send. Never throws: every
 * failure becomes an `error` response, so a bad client cannot crash the daemon.
 */
export async function dispatch(text: string, handlers: MethodHandlers): Promise<ResponseMessage> {
  const request = parseRequest(text)
  if (request instanceof ControlError) return errorResponse(null, request)
  try {
    return { id: request.id, result: await invoke(request, handlers) }
  } catch (err) {
    return errorResponse(request.id, err)
  }
}

function parseRequest(text: string): RequestMessage | ControlError {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return ControlError.badMessage('not JSON', true)
  }
  const parsed = RequestMessage.safeParse(json)
  return parsed.success ? parsed.data : ControlError.badMessage(parsed.error.issues[0]?.message ?? '', true)
}

async function invoke(request: RequestMessage, handlers: MethodHandlers): Promise<unknown> {
  const { method } = request
  if (!isMethodName(method)) throw ControlError.unknownMethod(method)
  const params = METHODS[method].params.safeParse(request.params ?? {})
  if (!params.success) throw ControlError.badParams(method, params.error.issues[0])
  const handler = handlers[method] as (params: unknown) => Promise<unknown>
  return handler(params.data)
}

function errorResponse(id: ResponseMessage['id'], err: unknown): ResponseMessage {
  if (err instanceof PairctlError) return { id, error: { code: err.code, message: clamp(err.message) } }
  debug('internal error: %O', err)
  return {
    id,
    error: { code: 'INTERNAL', message: clamp(`internal error: ${(err as Error)?.message ?? err}`) },
  }
}

/**
 * Cuts a message to what clients accept: a validation message can quote much of the request (e.g. every
 * unrecognized key), and a longer one would be dropped by the client, leaving its request unanswered.
 */
function clamp(message: string): string {
  return message.length <= MAX_ERROR_MESSAGE_LENGTH
    ? message
    : `${message.slice(0, MAX_ERROR_MESSAGE_LENGTH - 1)}…`
}
