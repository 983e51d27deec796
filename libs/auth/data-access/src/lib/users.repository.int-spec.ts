import { integrationServices } from '@zdm/dev-services';
import { authRegistry } from '@zdm/auth-domain';
import { MigrationRegistry } from '@zdm/migrations-core';
import mongoose, { Connection } from 'mongoose';
import { createUsersRepository, EmailTakenError, UsersRepository } from './users.repository';

jest.setTimeout(30_000);

const services = integrationServices(['mongo']);

describe('UsersRepository on FerretDB', () => {
  let connection: Connection;
  let users: UsersRepository;

  beforeAll(async () => {
    connection = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
    users = createUsersRepository(connection, { registry: MigrationRegistry.create([]), readMin: 1, readMax: 1, writeVersion: () => 1 });
    await users.ensureIndexes();
  });
  afterAll(() => connection?.close());

  it('stores a user at v1 and finds it by its e-mail address', async () => {
    const created = await users.create('ada@example.com', '$scrypt$ln=10,r=8,p=1$x$y');
    expect(created).toMatchObject({ storedVersion: 1, rev: 1, doc: { email: 'ada@example.com', passwordHash: '$scrypt$ln=10,r=8,p=1$x$y' } });
    expect((await users.findByEmail('ada@example.com'))?.id).toBe(created.id);
    expect(await users.findByEmail('nobody@example.com')).toBeNull();
  });

  it('refuses a second user with the same address, also when both register at once', async () => {
    await expect(users.create('ada@example.com', 'h')).rejects.toBeInstanceOf(EmailTakenError);
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => users.create('race@example.com', 'h')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason)).toEqual(Array(5).fill(expect.any(EmailTakenError)));
    expect(await connection.collection('users').countDocuments({ email: 'race@example.com' })).toBe(1);
  });

  it('changes a password hash through the compare-and-set update, bumping the revision', async () => {
    const { id } = await users.create('grace@example.com', 'old');
    const updated = await users.update(id, () => ({ set: { passwordHash: 'new' } }));
    expect(updated).toMatchObject({ rev: 2, doc: { passwordHash: 'new' } });
  });

  it('refuses fields outside the schema instead of dropping them', async () => {
    await expect(users.insert({ email: 'x@example.com', passwordHash: 'h', role: 'admin' })).rejects.toThrow(/role/);
  });

  describe('at v2 (auth.password-hash), writing v2', () => {
    let v2: UsersRepository;
    // Its own connection: a connection keeps one model per name, with the versions it was made with.
    let v2Connection: Connection;
    beforeAll(async () => {
      v2Connection = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
      v2 = createUsersRepository(v2Connection, { registry: authRegistry(), readMin: 1, readMax: 2, writeVersion: () => 2 });
    });
    afterAll(() => v2Connection?.close());

    it('replaces the hash a login verified, stamping v2 with the time it was written', async () => {
      const { id } = await users.create('upgrade@example.com', 'v1-hash');
      expect(await v2.replacePasswordHash(id, 'v1-hash', 'v2-hash', 2)).toBe(true);
      const raw = await connection.collection('users').findOne({ email: 'upgrade@example.com' });
      expect(raw).toMatchObject({ _v: 2, _rev: 2, passwordHash: 'v2-hash', passwordHashedAt: expect.any(Date) });
    });

    it('writes nothing when the stored hash is no longer the one verified (a concurrent login upgraded it first)', async () => {
      const { id } = await users.create('raced@example.com', 'v1-hash');
      expect(await v2.replacePasswordHash(id, 'v1-hash', 'first-login', 2)).toBe(true);
      expect(await v2.replacePasswordHash(id, 'v1-hash', 'second-login', 2)).toBe(false);
      expect(await connection.collection('users').findOne({ email: 'raced@example.com' })).toMatchObject({ _v: 2, _rev: 2, passwordHash: 'first-login' });
    });

    it('lets exactly one of several racing upgrades of one hash land', async () => {
      const { id } = await users.create('many@example.com', 'v1-hash');
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => v2.replacePasswordHash(id, 'v1-hash', `login-${i}`, 2)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const raw = await connection.collection('users').findOne({ email: 'many@example.com' });
      expect(raw).toMatchObject({ _v: 2, _rev: 2, passwordHash: `login-${results.indexOf(true)}` });
    });

    it('registers a user at v2 with passwordHashedAt, and reads a v1 user with passwordHashedAt null', async () => {
      const created = await v2.create('fresh@example.com', 'v2-hash', 2);
      expect(created).toMatchObject({ storedVersion: 2, doc: { passwordHashedAt: expect.any(Date) } });
      expect(await v2.findByEmail('ada@example.com')).toMatchObject({ storedVersion: 1, doc: { passwordHashedAt: null } });
    });
  });
});
