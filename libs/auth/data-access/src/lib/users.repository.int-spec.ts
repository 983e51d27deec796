import { integrationServices } from '@zdm/dev-services';
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
});
