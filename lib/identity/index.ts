/**
 * Device identity (`spec/identity.md`): key pairs, device IDs, instance directories and locks.
 * @module
 */
export { deviceIdFromPublicKey, IdentityError, parseDeviceId } from './device-id.js'
export { ensureDir, writeAtomic } from './files.js'
export { DEFAULT_INSTANCE, instanceDir, pairctlHome } from './home.js'
export { IDENTITY_FILE, Identity, loadOrCreateIdentity } from './identity.js'
export { type InstanceLock, isRunning, LOCK_FILE, lockInstance } from './lock.js'
