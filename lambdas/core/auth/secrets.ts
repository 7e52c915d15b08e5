import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Access tokens: a recognisable prefix (for secret scanners) and 256 random bits. */
export const TOKEN_PREFIX = 'hrld_';

export function generateAccessToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Magic codes travel in webhook URLs, so they are URL-safe: 128 random bits, 22 characters. */
export function generateMagicCode(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Only SHA-256 hashes of tokens and codes are stored. High-entropy secrets need no slow hash, and a
 * hash makes the lookup one GetItem instead of Zentik's bcrypt scan over every token.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Demo credentials for local mode: any 16–128 URL-safe characters. */
export const USER_SUPPLIED_SECRET = /^[A-Za-z0-9_-]{16,128}$/;

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
