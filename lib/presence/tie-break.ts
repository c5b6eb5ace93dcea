/**
 * Which of two authenticated links to the same peer survives (`spec/presence.md` §6.2), decided the same
 * way on both ends so that exactly one stays: the link dialed by the lower device ID wins; between two
 * links dialed by the same side, the newer wins (that side dials only after it lost the older one).
 *
 * @param localId this node's device ID
 * @param peerId the peer's device ID
 * @param incumbent the device ID that dialed the link already kept
 * @param challenger the device ID that dialed the new link
 * @returns true when the new link replaces the kept one
 */
export function challengerWins(
  localId: string,
  peerId: string,
  incumbent: string,
  challenger: string,
): boolean {
  if (incumbent === challenger) return true
  return challenger === (localId < peerId ? localId : peerId)
}
