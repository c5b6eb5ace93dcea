import type { DeviceInfo } from '../control/protocol.js'
import { parseDeviceId } from '../identity/index.js'
import type { PairedDevice } from '../pairing/store.js'
import { NodeError } from './options.js'

/** The public view of a paired device (`spec/control.md` §4.2): no keys, times as ISO 8601. */
export function deviceInfo(device: PairedDevice): DeviceInfo {
  return {
    deviceId: device.deviceId,
    name: device.name,
    type: device.type,
    pairedAt: new Date(device.pairedAt).toISOString(),
  }
}

/**
 * Finds the paired device a person meant by `text`: a full device ID (any case, dashes optional), a
 * unique device-ID prefix of at least 4 characters, or a unique name. Throws `NODE_UNKNOWN_DEVICE`.
 */
export function findDevice(devices: readonly PairedDevice[], text: string): PairedDevice {
  const byId = devices.find((device) => device.deviceId === tryParseDeviceId(text))
  if (byId !== undefined) return byId
  const compact = text.toUpperCase().replace(/[\s-]/g, '')
  const candidates = devices.filter(
    (device) =>
      device.name === text || (compact.length >= 4 && device.deviceId.replace(/-/g, '').startsWith(compact)),
  )
  if (candidates.length === 1) return candidates[0]!
  if (candidates.length > 1)
    throw new NodeError(
      'NODE_AMBIGUOUS_DEVICE',
      `"${text}" matches ${candidates.length} devices; give the full device ID`,
    )
  throw NodeError.unknownDevice(text)
}

function tryParseDeviceId(text: string): string | null {
  try {
    return parseDeviceId(text)
  } catch {
    return null
  }
}
