import { hashPassword, needsRehash, parsePasswordHash, verifyPassword } from './password-hash';

/** Small parameters keep the unit tests quick; the format and the rules are the same at any cost. */
const FAST = { logN: 10, r: 8, p: 1 };

describe('scrypt password hashes', () => {
  it('verifies the password it was made from and nothing else', async () => {
    const stored = await hashPassword('correct horse battery', FAST);
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('stores its parameters and a fresh salt with every hash', async () => {
    const [a, b] = [await hashPassword('same password', FAST), await hashPassword('same password', FAST)];
    expect(a).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(parsePasswordHash(a).params).toEqual(FAST);
  });

  it('verifies with the parameters stored in the hash, so hashes made before a cost change still verify', async () => {
    const old = await hashPassword('an older password', FAST);
    expect(await verifyPassword('an older password', old)).toBe(true);
    expect(needsRehash(old, { logN: 11, r: 8, p: 1 })).toBe(true);
    expect(needsRehash(old, FAST)).toBe(false);
  });

  it('refuses stored hashes it did not write, or whose cost is out of bounds', async () => {
    await expect(verifyPassword('x', 'plaintext')).rejects.toThrow(/not a \$scrypt\$ password hash/);
    const valid = await hashPassword('bounded cost', FAST);
    await expect(verifyPassword('bounded cost', valid.replace('ln=10', 'ln=30'))).rejects.toThrow(/out of bounds: scrypt logN/);
    await expect(hashPassword('x', { logN: 4, r: 8, p: 1 })).rejects.toThrow(/logN must be a whole number from 10 to 20/);
  });
});
