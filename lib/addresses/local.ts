/**
 * Whether an address is this machine's own or on one of its links: a connection to such an address
 * crosses no router, whatever its scope (`spec/holepunch.md` §6).
 * @module
 */
import { networkInterfaces } from 'node:os'
import type { InterfaceList } from './book.js'
import { classifyIp } from './classify.js'
import { canonicalIp, ipToBytes, unmapIpv4 } from './ip.js'

/** True when `host` is an address of one of this machine's interfaces. */
export function isOwnAddress(host: string, interfaces: InterfaceList = networkInterfaces()): boolean {
  const canonical = canonicalIp(unmapIpv4(host))
  return entries(interfaces).some((info) => canonicalIp(info.address) === canonical)
}

/**
 * True when `host` is this machine's or inside the subnet (address and netmask) of one of its
 * interfaces, so it is reached without a router in between.
 */
export function isOnLink(host: string, interfaces: InterfaceList = networkInterfaces()): boolean {
  const target = ipToBytes(unmapIpv4(host))
  if (target === null) return false
  if (isOwnAddress(host, interfaces)) return true
  return entries(interfaces).some((info) =>
    sameSubnet(target, ipToBytes(info.address), ipToBytes(info.netmask)),
  )
}

/** True when `host` is public and off this machine's links: a connection to it crosses a router. */
export function isPublicOffLink(host: string, interfaces?: InterfaceList): boolean {
  return classifyIp(host) === 'public' && !isOnLink(host, interfaces)
}

function entries(interfaces: InterfaceList) {
  return Object.values(interfaces).flatMap((list) => list ?? [])
}

/** A zero-length netmask (no subnet) matches nothing: no interface has the whole internet on its link. */
function sameSubnet(target: Uint8Array, address: Uint8Array | null, mask: Uint8Array | null): boolean {
  if (address === null || mask === null || address.length !== target.length || mask.length !== target.length)
    return false
  if (mask.every((byte) => byte === 0)) return false
  return target.every((byte, i) => (byte & mask[i]!) === (address[i]! & mask[i]!))
}
