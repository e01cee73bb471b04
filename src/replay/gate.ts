import type { Gate } from './player.js';

/**
 * Keeps the connections of one replay in their recorded order (see `Gate`). A connection whose
 * client has not connected yet stands at its first recorded frame; one that ended, at Infinity.
 */
export function recordedOrderGate(firstSeqs: Map<number, number>): Gate {
  const cursors = new Map<number, () => number>();
  return {
    track: (channel, cursor) => void cursors.set(channel, cursor),
    blocker(channel, seq) {
      for (const [other, first] of firstSeqs) {
        if (other === channel) continue;
        const cursor = cursors.get(other);
        const at = cursor ? cursor() : first;
        if (at < seq) return { channel: other, seq: at, opened: cursor !== undefined };
      }
      return undefined;
    },
  };
}
