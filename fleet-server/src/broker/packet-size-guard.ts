/**
 * @module broker/packet-size-guard
 * Refuses an MQTT packet from its fixed header, before its body is buffered. aedes (through
 * mqtt-packet) keeps every byte of a packet until the packet is complete, whatever size its
 * header announces, and has no size option; so this guard sits between the socket and aedes,
 * reads only the fixed headers as bytes pass (MQTT 3.1.1 §2.2: one type byte, then the Remaining
 * Length), and skips the bodies. A packet larger than the current limit, a malformed Remaining
 * Length, a reserved packet type, or a first packet that is not CONNECT [MQTT-3.1.0-1] destroys
 * the connection at once.
 *
 * The limit starts small (before authentication a client has sent nothing we trust, and CONNECT
 * is tiny) and is raised once the client has authenticated. Until then the bytes of all packets
 * together are capped too: an honest client sends its CONNECT and waits for the CONNACK, while
 * aedes would queue whatever else arrives meanwhile. The guard wraps any Duplex, so a TLS
 * socket plugs in the same way as a plain TCP one.
 */
import { Duplex } from 'node:stream';

export type PacketViolation =
  | { reason: 'packet_too_large'; packetBytes: number; limit: number; packetType: number }
  | { reason: 'too_much_before_auth'; bytes: number; limit: number }
  | { reason: 'malformed'; detail: string };

/**
 * The Remaining Length field for `n` (§2.2.3: 7 bits a byte, least significant group first,
 * the top bit saying another byte follows): what the scanner reads, for crafting headers.
 */
export function encodeRemainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

/** CONNECT's packet type (§2.2.1). */
const CONNECT = 1;

/**
 * A streaming reader of MQTT fixed headers. Feed it the bytes of one direction of one connection,
 * in any chunking; it reports the first packet that breaks the rules and then stays failed.
 */
export class FixedHeaderScanner {
  /** Headers completed so far. */
  packets = 0;
  private phase: 'type' | 'length' | 'body' = 'type';
  private packetType = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private bodyLeft = 0;
  private failed: PacketViolation | undefined;

  /** `maxPacketBytes` counts the whole packet: fixed header, variable header and payload. */
  constructor(public maxPacketBytes: number) {}

  scan(chunk: Uint8Array): PacketViolation | undefined {
    if (this.failed) return this.failed;
    let i = 0;
    while (i < chunk.length) {
      if (this.phase === 'body') {
        const take = Math.min(this.bodyLeft, chunk.length - i);
        i += take;
        this.bodyLeft -= take;
        if (this.bodyLeft === 0) this.phase = 'type';
        continue;
      }
      const byte = chunk[i++]!;
      if (this.phase === 'type') {
        this.packetType = byte >> 4;
        // §2.2.1: 0 and 15 are reserved (aedes speaks 3.1 and 3.1.1 only, so 15 is not AUTH).
        if (this.packetType === 0 || this.packetType === 15)
          return this.fail({ reason: 'malformed', detail: `reserved packet type ${this.packetType}` });
        if (this.packets === 0 && this.packetType !== CONNECT)
          return this.fail({
            reason: 'malformed',
            detail: `first packet is type ${this.packetType}, not CONNECT [MQTT-3.1.0-1]`,
          });
        this.phase = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      // §2.2.3: Remaining Length, 7 bits per byte, least significant first, at most 4 bytes.
      this.length += (byte & 0x7f) * this.multiplier;
      this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes === 4)
          return this.fail({ reason: 'malformed', detail: 'Remaining Length longer than 4 bytes (§2.2.3)' });
        this.multiplier *= 128;
        continue;
      }
      const packetBytes = 1 + this.lengthBytes + this.length;
      if (packetBytes > this.maxPacketBytes) {
        return this.fail({
          reason: 'packet_too_large',
          packetBytes,
          limit: this.maxPacketBytes,
          packetType: this.packetType,
        });
      }
      this.packets++;
      this.bodyLeft = this.length;
      this.phase = this.length === 0 ? 'type' : 'body';
    }
    return undefined;
  }

  private fail(v: PacketViolation): PacketViolation {
    this.failed = v;
    return v;
  }
}

/**
 * The connection aedes sees: the socket's bytes, scanned before they are passed on; writes go
 * straight to the socket. On a violation `onViolation` runs and both streams are destroyed
 * without the offending bytes ever reaching aedes.
 */
export class PacketSizeGuard extends Duplex {
  private readonly scanner: FixedHeaderScanner;
  private bytesBeforeAuth = 0;
  private authenticated = false;
  private held = false;

  /** `maxBytesBeforeAuth`: what the client may send in all before `setAuthenticated`. */
  constructor(
    readonly socket: Duplex,
    maxPacketBytes: number,
    private readonly maxBytesBeforeAuth: number,
    private readonly onViolation: (v: PacketViolation) => void,
  ) {
    super({ allowHalfOpen: false });
    this.scanner = new FixedHeaderScanner(maxPacketBytes);
    socket.on('data', (chunk: Buffer) => {
      if (this.destroyed) return;
      if (!this.authenticated) this.bytesBeforeAuth += chunk.length;
      const violation =
        !this.authenticated && this.bytesBeforeAuth > this.maxBytesBeforeAuth
          ? { reason: 'too_much_before_auth' as const, bytes: this.bytesBeforeAuth, limit: this.maxBytesBeforeAuth }
          : this.scanner.scan(chunk);
      if (violation) {
        this.onViolation(violation);
        this.destroy();
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => {
      if (!this.destroyed) this.destroy();
    });
  }

  /** The client authenticated: packets up to `maxPacketBytes` from now on, no cap on their sum. */
  setAuthenticated(maxPacketBytes: number): void {
    this.authenticated = true;
    this.scanner.maxPacketBytes = maxPacketBytes;
  }

  /**
   * Reads nothing more from the socket until `resumeReading` (the intake's back-pressure): its
   * bytes wait in the kernel, then on the client. What was read already still reaches aedes.
   */
  pauseReading(): void {
    this.held = true;
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.held) return;
    this.held = false;
    this.socket.resume();
  }

  override _read(): void {
    if (!this.held) this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.afterSocketWrite(this.socket.write(chunk), done);
  }

  /** mqtt-packet corks the connection and writes a packet in pieces: they leave in one socket write. */
  override _writev(chunks: Array<{ chunk: Buffer }>, done: (err?: Error | null) => void): void {
    this.socket.cork();
    let flowing = true;
    for (const { chunk } of chunks) flowing = this.socket.write(chunk);
    this.socket.uncork();
    this.afterSocketWrite(flowing, done);
  }

  private afterSocketWrite(flowing: boolean, done: (err?: Error | null) => void): void {
    // Backpressure follows the socket's: aedes waits for our 'drain' as it would for the socket's.
    if (flowing) return done();
    const settle = () => {
      this.socket.off('drain', settle);
      this.socket.off('close', settle);
      done();
    };
    this.socket.on('drain', settle);
    this.socket.on('close', settle);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.socket.end(() => done());
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.socket.destroy();
    done(err);
  }
}
