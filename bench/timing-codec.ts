import { randomInt } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';

// What the payload codec (encryption) costs a measured run: a wrapper counting time, calls and bytes around the
// product's codecs, and CPU per payload from replaying a sample once the run is over.

export interface CodecCost {
  /**
   * Process CPU milliseconds the window's payloads cost the codec, from replaying a sample of them through it once
   * the run is over (TimingPayloadCodec.replayCpuPerPayload): CPU of warm, uninterrupted code, a lower bound.
   */
  cpuMs: number;
  /**
   * Main-thread milliseconds inside encode / decode during the run itself (hrtime): an upper bound, since it also
   * holds garbage collection and the OS preempting the thread, which a busy machine does often.
   */
  encodeMs: number;
  decodeMs: number;
  /** Encoded (encrypted) payload bytes: produced by encode, and read back by decode. */
  bytesEncoded: number;
  bytesDecoded: number;
  /** encode + decode calls, and the payloads they carried. */
  calls: number;
  payloadsEncoded: number;
  payloadsDecoded: number;
}

/** a + sign * b, field by field: a difference of two snapshots, or a sum of rounds. */
export function combineCodecCosts(a: CodecCost, b: CodecCost, sign: 1 | -1 = 1): CodecCost {
  const cost = { ...a };
  for (const key of Object.keys(cost) as (keyof CodecCost)[]) cost[key] += sign * b[key];
  return cost;
}

/**
 * Wraps the product's codecs and adds up what they cost in this process (client and worker; the worker runs
 * codecs on the main thread, outside the workflow threads). Time is hrtime around the *synchronous* part of each
 * call, which for AES-GCM is all of it. Node 20 has no per-thread CPU clock, and process.cpuUsage() counts the
 * whole process (workflow threads, the SDK's Rust threads), so CPU proper comes from replaying a sample of the
 * payloads once the worker has stopped (replayCpuPerPayload).
 */
export class TimingPayloadCodec implements PayloadCodec {
  private readonly cost: CodecCost = {
    cpuMs: 0,
    encodeMs: 0,
    decodeMs: 0,
    bytesEncoded: 0,
    bytesDecoded: 0,
    calls: 0,
    payloadsEncoded: 0,
    payloadsDecoded: 0,
  };
  /** A uniform sample of the payloads encoded (reservoir sampling), replayed by replayCpuPerPayload. */
  private readonly sample: Payload[] = [];
  private seen = 0;

  constructor(private readonly codecs: PayloadCodec[]) {}

  snapshot(): CodecCost {
    return { ...this.cost };
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    this.cost.calls++;
    this.cost.payloadsEncoded += payloads.length;
    for (const payload of payloads) this.keepInSample(payload);
    let result = payloads;
    // As the SDK applies a list of codecs: encode in order, decode in reverse.
    for (const codec of this.codecs) {
      const started = process.hrtime.bigint();
      const pending = codec.encode(result);
      this.cost.encodeMs += Number(process.hrtime.bigint() - started) / 1e6;
      result = await pending;
    }
    this.cost.bytesEncoded += payloadBytes(result);
    return result;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    this.cost.calls++;
    this.cost.payloadsDecoded += payloads.length;
    this.cost.bytesDecoded += payloadBytes(payloads);
    let result = payloads;
    for (const codec of [...this.codecs].reverse()) {
      const started = process.hrtime.bigint();
      const pending = codec.decode(result);
      this.cost.decodeMs += Number(process.hrtime.bigint() - started) / 1e6;
      result = await pending;
    }
    return result;
  }

  /**
   * Process CPU per payload, encode and decode, of the sampled payloads run through the codecs again and again
   * (after one warm-up pass) until about 0.3 s of CPU is spent. Call it when nothing else runs in the process:
   * process.cpuUsage() counts every thread.
   */
  async replayCpuPerPayload(): Promise<{ encodeMs: number; decodeMs: number }> {
    const sample = this.sample;
    if (sample.length === 0) return { encodeMs: 0, decodeMs: 0 };
    const cpuUs = ({ user, system }: NodeJS.CpuUsage) => user + system;
    const pass = async (): Promise<[number, number]> => {
      let started = process.cpuUsage();
      let encoded = sample;
      for (const codec of this.codecs) encoded = await codec.encode(encoded);
      const encodeUs = cpuUs(process.cpuUsage(started));
      started = process.cpuUsage();
      let decoded = encoded;
      for (const codec of [...this.codecs].reverse()) decoded = await codec.decode(decoded);
      return [encodeUs, cpuUs(process.cpuUsage(started))];
    };
    await pass();
    let [encodeUs, decodeUs, passes] = [0, 0, 0];
    while (passes < 1000 && encodeUs + decodeUs < 300_000) {
      const [e, d] = await pass();
      [encodeUs, decodeUs, passes] = [encodeUs + e, decodeUs + d, passes + 1];
    }
    const payloads = passes * sample.length;
    return { encodeMs: encodeUs / 1000 / payloads, decodeMs: decodeUs / 1000 / payloads };
  }

  private keepInSample(payload: Payload): void {
    this.seen++;
    if (this.sample.length < SAMPLE_SIZE) this.sample.push(payload);
    else {
      const slot = randomInt(this.seen);
      if (slot < SAMPLE_SIZE) this.sample[slot] = payload;
    }
  }
}

const SAMPLE_SIZE = 1000;

/** Data plus metadata keys and values: close to the payload's size in a history event. */
function payloadBytes(payloads: Payload[]): number {
  let bytes = 0;
  for (const payload of payloads) {
    bytes += payload.data?.byteLength ?? 0;
    for (const [key, value] of Object.entries(payload.metadata ?? {})) bytes += key.length + value.byteLength;
  }
  return bytes;
}

/** Per resync, for printing: CPU ms (replayed), ms inside the codec during the run, KiB that encode produced. */
export function codecPerResync(
  codec: CodecCost,
  resyncs: number,
): { cpuMs: number; inRunMs: number; encodedKiB: number } {
  return {
    cpuMs: codec.cpuMs / resyncs,
    inRunMs: (codec.encodeMs + codec.decodeMs) / resyncs,
    encodedKiB: codec.bytesEncoded / 1024 / resyncs,
  };
}
