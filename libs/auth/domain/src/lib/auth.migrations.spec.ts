import { phasesOf, roundTripCheck, verifyFailure } from '@zdm/migrations-core';
import { authRegistry, expireUserPassword, passwordHashMigration, usersReadRange, verifyUserV2 } from './auth.migrations';
import { DEFAULT_SCRYPT_PARAMS, STRONGER_SCRYPT_PARAMS, hashPassword, scryptParamsProblem } from './password-hash';

const FAST = { logN: 10, r: 8, p: 1 };

describe('auth.password-hash (users v1 -> v2)', () => {
  it('is registered, lazy-only, and makes this build read users v1..v2', () => {
    const registry = authRegistry();
    expect(registry.all().map((d) => d.id)).toEqual(['auth.password-hash', 'auth.session-keyspace']);
    expect(passwordHashMigration.strategy).toMatchObject({ kind: 'lazy-only', upgradedWhen: "at the user's next successful login" });
    expect(phasesOf(passwordHashMigration)).toEqual(['pending', 'expand', 'backfill', 'verify', 'complete']);
    expect(usersReadRange(registry)).toEqual({ readMin: 1, readMax: 2 });
  });

  it('uses stronger parameters at v2 than at v1, within the bounds a v1 build verifies', () => {
    expect(STRONGER_SCRYPT_PARAMS.logN).toBeGreaterThan(DEFAULT_SCRYPT_PARAMS.logN);
    expect(scryptParamsProblem(STRONGER_SCRYPT_PARAMS)).toBeUndefined();
  });

  it('accepts a v2 user with a hash written at a known time, or with no hash and a reset to do', async () => {
    const passwordHash = await hashPassword('correct horse battery', FAST);
    expect(verifyUserV2({ email: 'a@example.com', passwordHash, passwordHashedAt: new Date() })).toBe(true);
    expect(verifyUserV2({ email: 'a@example.com', passwordHashedAt: null, passwordResetRequired: true })).toBe(true);
  });

  it('names what is wrong with a document stamped v2 that no v2 writer wrote', async () => {
    const passwordHash = await hashPassword('correct horse battery', FAST);
    expect(verifyUserV2({ email: 'a@example.com', passwordHash, passwordHashedAt: null })).toBe('passwordHashedAt is not a date: the hash was not written by a v2 login or registration');
    expect(verifyUserV2({ email: 'a@example.com', passwordHash: 'plain', passwordHashedAt: new Date() })).toBe('not a $scrypt$ password hash');
    expect(verifyUserV2({ email: 'a@example.com' })).toBe('no password hash and no reset required');
    expect(verifyUserV2({ passwordHash, passwordResetRequired: true })).toBe('a user who must reset the password still has a password hash');
    expect(verifyFailure(passwordHashMigration, { email: 'a@example.com', passwordHash, passwordHashedAt: null })).toMatch(/^verify failed: passwordHashedAt is not a date/);
  });

  it('expires a user by removing the hash and requiring a reset, keeping the rest of the document', () => {
    const v1 = { email: 'late@example.com', passwordHash: '$scrypt$ln=15,r=8,p=1$s$k', createdAt: new Date(0) };
    const expired = expireUserPassword(v1);
    expect(expired).toEqual({ email: 'late@example.com', createdAt: new Date(0), passwordHashedAt: null, passwordResetRequired: true });
    expect(verifyUserV2(expired)).toBe(true);
    expect(v1.passwordHash).toBe('$scrypt$ln=15,r=8,p=1$s$k');
  });

  it('upcasts a v1 user on read without touching its hash, and goes back by dropping passwordHashedAt', () => {
    const v1 = { email: 'a@example.com', passwordHash: '$scrypt$ln=15,r=8,p=1$s$k' };
    expect(passwordHashMigration.up(v1)).toEqual({ ...v1, passwordHashedAt: null });
    expect(roundTripCheck(passwordHashMigration, [{ id: 'u1', doc: v1 }])).toEqual({ reversible: true, sampled: 1, failures: [] });
  });
});
