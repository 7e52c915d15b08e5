import { createHmac, timingSafeEqual } from 'node:crypto';
import { HeraldError } from '../errors';

/** HMAC of the concatenated parts (strings as UTF-8, Buffers as they are). */
export function hmac(algorithm: 'sha256' | 'sha1', key: string | Buffer, parts: readonly (string | Buffer)[]): Buffer {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** Constant-time comparison of a computed MAC with a presented one, whatever their lengths. */
export function macEquals(expected: Buffer, presented: Buffer): boolean {
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}

/** Decodes a hex signature; anything that is not even-length hex yields an empty buffer (never matches). */
export function fromHex(text: string): Buffer {
  return /^(?:[0-9a-fA-F]{2})+$/.test(text) ? Buffer.from(text, 'hex') : Buffer.alloc(0);
}

/** Decodes a base64 signature; malformed input yields an empty buffer (never matches). */
export function fromBase64(text: string): Buffer {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
}

/**
 * Checks a signed timestamp (unix seconds) against `now`: older than `toleranceSeconds`, or more
 * than that in the future, is refused.
 */
export function checkTimestamp(timestampSeconds: number, now: Date, toleranceSeconds: number, source: string): void {
  if (!Number.isFinite(timestampSeconds)) {
    throw new HeraldError('invalid_signature', `${source} signature has no valid timestamp`);
  }
  const age = now.getTime() / 1000 - timestampSeconds;
  if (Math.abs(age) > toleranceSeconds) {
    throw new HeraldError(
      'signature_expired',
      `${source} signature timestamp is ${Math.round(Math.abs(age))} s ${age > 0 ? 'old' : 'in the future'}; the tolerance is ${toleranceSeconds} s`,
    );
  }
}
