/**
 * LAN discovery (`spec/discovery.md`): pairctl nodes on one link find each other's DHT ports over
 * multicast DNS with a DNS-SD service, so two devices pair on a LAN with no bootstrap node.
 */
export * from './constants.js'
export {
  type DiscoveryEvent,
  type DiscoveryTransmit,
  type Endpoint,
  LanDiscoveryCore,
  type LanDiscoveryCoreOptions,
  type LinkInterface,
} from './core.js'
export { discoveryInterfaces, LanDiscovery, type LanDiscoveryOptions } from './mdns.js'
export { type Announcement, announcementPacket, announcementRecords, serviceQuery } from './records.js'
