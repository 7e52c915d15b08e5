import { createHash } from 'node:crypto';
import {
  constantTimeEqual,
  generateAccessToken,
  generateMagicCode,
  hashSecret,
  TOKEN_PREFIX,
  USER_SUPPLIED_SECRET,
} from '../../../lambdas/core/auth/secrets';

const BASE64URL = /^[A-Za-z0-9_-]+$/;

describe('generateAccessToken', () => {
  test('starts with the hrld_ prefix', () => {
    expect(TOKEN_PREFIX).toBe('hrld_');
    expect(generateAccessToken().startsWith('hrld_')).toBe(true);
  });

  test('carries 256 random bits: 43 base64url characters after the prefix', () => {
    const secret = generateAccessToken().slice(TOKEN_PREFIX.length);

    expect(secret).toMatch(BASE64URL);
    expect(secret).toHaveLength(43);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
  });

  test('is different every time', () => {
    const tokens = new Set(Array.from({ length: 100 }, generateAccessToken));

    expect(tokens.size).toBe(100);
  });
});

describe('generateMagicCode', () => {
  test('carries 128 random bits as 22 URL-safe characters', () => {
    const code = generateMagicCode();

    expect(code).toMatch(BASE64URL);
    expect(code).toHaveLength(22);
    expect(Buffer.from(code, 'base64url')).toHaveLength(16);
  });

  test('survives a URL query unchanged', () => {
    const code = generateMagicCode();

    expect(new URL(`https://push.example.com/transform?magicCode=${code}`).searchParams.get('magicCode')).toBe(code);
  });

  test('is different every time', () => {
    expect(new Set(Array.from({ length: 100 }, generateMagicCode)).size).toBe(100);
  });
});

describe('hashSecret', () => {
  test('is the lower-case SHA-256 hex of the UTF-8 secret', () => {
    // SHA-256("abc"), FIPS 180-2 test vector
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  test('hashes non-ASCII secrets as UTF-8', () => {
    expect(hashSecret('pässwörd')).toBe(createHash('sha256').update(Buffer.from('pässwörd', 'utf8')).digest('hex'));
  });

  test('is the same for the same secret, so a lookup is one GetItem', () => {
    const token = generateAccessToken();

    expect(hashSecret(token)).toBe(hashSecret(token));
    expect(hashSecret(token)).not.toBe(hashSecret(generateAccessToken()));
  });
});

describe('USER_SUPPLIED_SECRET', () => {
  test.each([
    ['16 characters', 'a'.repeat(16)],
    ['128 characters', 'a'.repeat(128)],
    ['every URL-safe character', 'AZaz09_-AZaz09_-'],
    ['a generated token', generateAccessToken()],
    ['a generated magic code', generateMagicCode()],
  ])('accepts %s', (_name, secret) => {
    expect(USER_SUPPLIED_SECRET.test(secret)).toBe(true);
  });

  test.each([
    ['15 characters', 'a'.repeat(15)],
    ['129 characters', 'a'.repeat(129)],
    ['an empty string', ''],
    ['a space', 'aaaaaaaa aaaaaaa'],
    ['"+" and "/" (plain base64)', 'aaaaaaaa+aaaaaa/'],
    ['"="', 'aaaaaaaaaaaaaaa='],
    ['a query separator', 'aaaaaaaa&aaaaaaa'],
    ['non-ASCII letters', 'ääääääääääääääää'],
    ['a trailing newline', `${'a'.repeat(16)}\n`],
  ])('rejects %s', (_name, secret) => {
    expect(USER_SUPPLIED_SECRET.test(secret)).toBe(false);
  });
});

describe('constantTimeEqual', () => {
  test('is true for equal strings', () => {
    expect(constantTimeEqual('hrld_same', 'hrld_same')).toBe(true);
  });

  test('is false for different strings of one length', () => {
    expect(constantTimeEqual('hrld_aaaa', 'hrld_aaab')).toBe(false);
  });

  test('is false for different lengths, without throwing', () => {
    expect(constantTimeEqual('hrld_a', 'hrld_ab')).toBe(false);
  });
});
