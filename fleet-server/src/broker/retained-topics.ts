/**
 * @module broker/retained-topics
 * The embedded broker's retained messages, indexed by topic level. aedes' in-memory store keeps
 * them in one map and tests every one against each filter a client subscribes to; with two
 * retained messages per device (presence, desired) every connect scanned the fleet, and 10,000
 * reconnecting devices cost 10,000 × 20,000 filter tests. Here a filter walks a tree of topic
 * levels: a device's filters (its own desired, ack and chunk topics) find their message in a few
 * map lookups, and only wildcard levels fan out.
 *
 * Filters follow MQTT 3.1.1 §4.7: `+` one level, `#` the parent level and everything below it,
 * and a filter starting with a wildcard does not match topics starting with `$` (§4.7.2).
 */
import { Readable } from 'node:stream';

export interface RetainedPacket {
  topic: string;
  payload: Buffer | string;
}

interface Level {
  children: Map<string, Level>;
  packet?: RetainedPacket;
}

export class RetainedTopics {
  private readonly root: Level = { children: new Map() };
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Keeps `packet` for its topic; an empty payload removes what the topic held (§3.3.1.3). */
  store(packet: RetainedPacket): void {
    const levels = packet.topic.split('/');
    if (packet.payload.length === 0) return this.remove(levels);
    let node = this.root;
    for (const name of levels) {
      let child = node.children.get(name);
      if (!child) node.children.set(name, (child = { children: new Map() }));
      node = child;
    }
    if (!node.packet) this.count++;
    node.packet = packet;
  }

  /** Every retained message matching `filter`. */
  *match(filter: string): Generator<RetainedPacket> {
    yield* walk(this.root, filter.split('/'), 0);
  }

  private remove(levels: string[]): void {
    const path: Level[] = [this.root];
    for (const name of levels) {
      const child = path[path.length - 1]!.children.get(name);
      if (!child) return;
      path.push(child);
    }
    const leaf = path[path.length - 1]!;
    if (!leaf.packet) return;
    delete leaf.packet;
    this.count--;
    // Prune the branch back to the last level still holding something.
    for (let i = levels.length; i > 0; i--) {
      const node = path[i]!;
      if (node.packet || node.children.size > 0) break;
      path[i - 1]!.children.delete(levels[i - 1]!);
    }
  }
}

function* walk(node: Level, filter: string[], i: number): Generator<RetainedPacket> {
  if (i === filter.length) {
    if (node.packet) yield node.packet;
    return;
  }
  const name = filter[i]!;
  if (name === '#') {
    yield* everything(node, i === 0);
  } else if (name === '+') {
    for (const [child, next] of node.children) if (i > 0 || !child.startsWith('$')) yield* walk(next, filter, i + 1);
  } else {
    const next = node.children.get(name);
    if (next) yield* walk(next, filter, i + 1);
  }
}

function* everything(node: Level, atRoot: boolean): Generator<RetainedPacket> {
  if (node.packet) yield node.packet;
  for (const [child, next] of node.children) if (!atRoot || !child.startsWith('$')) yield* everything(next, false);
}

/** The part of aedes' persistence that holds retained messages. */
interface RetainedPersistence {
  storeRetained(packet: RetainedPacket): Promise<void>;
  createRetainedStream(pattern: string): Readable;
  createRetainedStreamCombi(patterns: string[]): Readable;
}

/**
 * Makes aedes' persistence keep its retained messages in a RetainedTopics (before any is
 * stored: call right after the broker is created). The rest of the store is untouched.
 */
export function indexRetained(persistence: RetainedPersistence): RetainedTopics {
  const retained = new RetainedTopics();
  // A copy, as aedes' own store keeps: the packet object goes on to be routed and delivered.
  persistence.storeRetained = async (packet) => retained.store({ ...packet });
  persistence.createRetainedStream = (pattern) => Readable.from(retained.match(pattern));
  persistence.createRetainedStreamCombi = (patterns) =>
    Readable.from(
      (function* () {
        for (const pattern of patterns) yield* retained.match(pattern);
      })(),
    );
  return retained;
}
