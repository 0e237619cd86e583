// The secret part of an API key (`geul_<id>_<43 base64url characters>`), for checks that it never leaks.
import assert from 'node:assert/strict';

/** The 43-character secret; base64url may contain '_', so splitting the key on '_' can cut it short. */
export function keySecret(key: string): string {
  const secret = /^geul_[A-Za-z0-9]{12}_([A-Za-z0-9_-]{43})$/.exec(key)?.[1];
  assert.ok(secret, `not a geul API key: ${key}`);
  return secret;
}
