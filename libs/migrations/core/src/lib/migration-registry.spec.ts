import {
  DefinitionProblem,
  MigrationDefinitionError,
  MigrationRegistry,
  ValidateOptions,
  checksumOf,
  defineMigration,
  targetKindProblems,
  targetOf,
} from './migration-registry';
import { MigrationDefinition, MigrationTarget, TargetKind, targetName } from './migration.types';
import { fullNameMigration, tierMigration } from './testing/migration.fixtures';

/** A valid v2 -> v3 expand/contract step after `customers.full-name`. */
const emailStep = (overrides: Partial<MigrationDefinition> = {}): MigrationDefinition =>
  fullNameMigration({
    id: 'customers.email-lower',
    description: 'email -> emailLower',
    from: 2,
    to: 3,
    up: (doc) => ({ ...doc, emailLower: String(doc['email']).toLowerCase() }),
    removedFields: ['email'],
    addedFields: ['emailLower'],
    ...overrides,
  });

/** Runs `MigrationRegistry.create` and returns the error it must throw. */
function refusal(defs: MigrationDefinition[], options?: ValidateOptions): MigrationDefinitionError {
  try {
    MigrationRegistry.create(defs, options);
  } catch (err) {
    expect(err).toBeInstanceOf(MigrationDefinitionError);
    return err as MigrationDefinitionError;
  }
  throw new Error('MigrationRegistry.create accepted an invalid chain');
}

/** Asserts exactly one problem with this code, and that the message names the migration and the problem. */
function expectOneProblem(err: MigrationDefinitionError, code: DefinitionProblem['code'], migrationId: string, says: RegExp) {
  const found = err.problems.filter((p) => p.code === code);
  expect(found).toHaveLength(1);
  expect(found[0].migrationId).toBe(migrationId);
  expect(found[0].message).toMatch(says);
  expect(err.message).toContain(`${migrationId}: `);
  expect(err.message).toMatch(says);
}

describe('MigrationRegistry', () => {
  it('accepts a chain 1 -> 2 -> 3 in any registration order and finds each step', () => {
    const registry = MigrationRegistry.create([emailStep(), fullNameMigration(), tierMigration('eager', { target: { kind: 'redis', keyPattern: 'tier:*', versioning: 'value' }, from: 1, to: 2 })]);
    expect(registry.problems()).toEqual([]);
    expect(registry.get('customers.full-name').to).toBe(2);
    expect(registry.has('customers.email-lower')).toBe(true);
    expect(registry.has('customers.nope')).toBe(false);
    expect(registry.latestVersion('customers')).toBe(3);
    expect(registry.latestVersion('tier:*')).toBe(2);
    expect(registry.latestVersion('unknown')).toBe(1);
    expect(registry.path('customers', 1, 3).map((d) => d.id)).toEqual(['customers.full-name', 'customers.email-lower']);
    expect(registry.path('customers', 2, 3).map((d) => d.id)).toEqual(['customers.email-lower']);
    expect([...registry.chains().keys()].sort()).toEqual(['customers', 'tier:*']);
  });

  it('explains an unknown id by listing the known ones', () => {
    const registry = MigrationRegistry.create([fullNameMigration()]);
    expect(() => registry.get('orders.x')).toThrow(/Unknown migration "orders.x". Known: customers.full-name/);
  });

  it('refuses a version gap and names the step after the gap', () => {
    const err = refusal([fullNameMigration(), emailStep({ from: 3, to: 4 })]);
    expectOneProblem(err, 'version-gap', 'customers.email-lower', /customers has no step from 2 to 3 \(after "customers.full-name"\)/);
  });

  it('refuses a chain that does not start at version 1', () => {
    const err = refusal([emailStep()]);
    expectOneProblem(err, 'version-gap', 'customers.email-lower', /starts at version 2; the chain must start at version 1/);
  });

  it('refuses the same id registered twice', () => {
    const err = refusal([fullNameMigration(), emailStep({ id: 'customers.full-name' })]);
    expectOneProblem(err, 'duplicate-id', 'customers.full-name', /registered more than once/);
  });

  it('refuses two migrations declaring the same step of one target', () => {
    const err = refusal([fullNameMigration(), fullNameMigration({ id: 'customers.full-name-again' })]);
    expectOneProblem(err, 'duplicate-step', 'customers.full-name-again', /step 1 -> 2 of customers is also declared by "customers.full-name"/);
  });

  it('refuses a step that does not go from n to n+1', () => {
    const err = refusal([fullNameMigration({ to: 3 })]);
    expectOneProblem(err, 'not-plus-one', 'customers.full-name', /from n to n\+1, got 1 -> 3/);
  });

  it('refuses a migration without down() when rollback past contract is requested for it', () => {
    const irreversible = fullNameMigration({ down: undefined });
    expect(() => MigrationRegistry.create([irreversible])).not.toThrow();
    const err = refusal([irreversible], { requireDown: ['customers.full-name'] });
    expectOneProblem(err, 'down-missing', 'customers.full-name', /no down\(\); it is irreversible/);
  });

  it('accepts requireDown for a migration that has down()', () => {
    expect(() => MigrationRegistry.create([fullNameMigration()], { requireDown: ['customers.full-name'] })).not.toThrow();
  });

  it('refuses an applied migration whose code changed since, quoting both checksums', () => {
    const applied = checksumOf(fullNameMigration());
    expect(() => MigrationRegistry.create([fullNameMigration()], { appliedChecksums: { 'customers.full-name': applied } })).not.toThrow();
    const edited = fullNameMigration({ up: (doc) => ({ ...doc, fullName: `${doc['lastName']}, ${doc['firstName']}` }) });
    const err = refusal([edited], { appliedChecksums: { 'customers.full-name': applied } });
    expectOneProblem(err, 'checksum-changed', 'customers.full-name', new RegExp(`already applied with checksum ${applied}, but the code now has ${checksumOf(edited)}`));
  });

  it.each<[string, Partial<MigrationDefinition>, RegExp]>([
    ['an id with capitals and spaces', { id: 'Customers Full' }, /id must be lower-case words/],
    ['a missing description', { description: '' }, /description is required/],
    ['a missing service', { service: '' }, /service is required/],
    ['a missing target', { target: undefined }, /target.kind must name the backend that owns the data/],
    ['a target without a kind', { target: { kind: '', collection: 'customers' } }, /target.kind must name the backend that owns the data/],
    ['a target without a name', { target: { kind: 'mongo', collection: '' } }, /the mongo target has no name: give it a name field, or a string field after kind/],
    ['from below 1', { from: 0, to: 1 }, /from must be an integer >= 1, got 0/],
    ['a fractional to', { to: 2.5 }, /to must be an integer, got 2.5/],
    ['up that is not a function', { up: 'x' as never }, /up must be a function/],
    ['down that is not a function', { down: 42 as never }, /down must be a function when given/],
    ['verify that is not a function', { verify: true as never }, /verify must be a function when given/],
    ['expand-contract without removedFields', { removedFields: [] }, /must list removedFields/],
    ['additive with removedFields', { strategy: { kind: 'additive', backfill: 'eager' } }, /additive migration cannot remove fields/],
  ])('refuses %s as an invalid field', (_what, overrides, says) => {
    const def = fullNameMigration(overrides);
    const problems = new MigrationRegistry([def]).problems().filter((p) => p.code === 'invalid-field');
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toMatch(says);
    expect(problems[0].migrationId).toBe(typeof def.id === 'string' && def.id ? def.id : '<missing id>');
    expect(() => MigrationRegistry.create([def])).toThrow(MigrationDefinitionError);
  });

  it('names a migration without an id as <missing id>', () => {
    const problems = new MigrationRegistry([fullNameMigration({ id: '' })]).problems();
    expect(problems.map((p) => p.migrationId)).toContain('<missing id>');
  });

  it('accepts an additive migration without removedFields', () => {
    expect(() => MigrationRegistry.create([fullNameMigration(), tierMigration('lazy')])).not.toThrow();
  });

  it('reports every problem at once, each naming its migration, with a count in the message', () => {
    const err = refusal(
      [
        fullNameMigration({ down: undefined }),
        fullNameMigration({ id: 'customers.full-name-again' }),
        emailStep({ from: 3, to: 5, removedFields: [] }),
      ],
      { requireDown: ['customers.full-name'], appliedChecksums: { 'customers.full-name-again': 'deadbeefdeadbeef' } },
    );
    expect(err.problems.map((p) => `${p.code} ${p.migrationId}`).sort()).toEqual([
      'checksum-changed customers.full-name-again',
      'down-missing customers.full-name',
      'duplicate-step customers.full-name-again',
      'invalid-field customers.email-lower',
      'not-plus-one customers.email-lower',
      'version-gap customers.email-lower',
    ]);
    expect(err.message).toMatch(/^Invalid migration definitions \(6 problems\):/);
    for (const p of err.problems) expect(err.message).toContain(`  - ${p.migrationId}: ${p.message}`);
  });

  it('says "1 problem" in the singular', () => {
    expect(refusal([fullNameMigration({ to: 3 })]).message).toMatch(/\(1 problem\):/);
  });
});

describe('defineMigration', () => {
  it('returns the definition unchanged, so it can be registered as written', () => {
    const def = fullNameMigration();
    expect(defineMigration(def)).toBe(def);
  });
});

describe('checksumOf', () => {
  it('is stable for the same definition and 16 hex characters long', () => {
    expect(checksumOf(fullNameMigration())).toBe(checksumOf(fullNameMigration()));
    expect(checksumOf(fullNameMigration())).toMatch(/^[0-9a-f]{16}$/);
  });

  it.each<[string, Partial<MigrationDefinition>]>([
    ['the id', { id: 'customers.full-name-2' }],
    ['the target', { target: { kind: 'mongo', collection: 'clients' } }],
    ['the versions', { from: 2, to: 3 }],
    ['the strategy', { strategy: { kind: 'additive', backfill: 'lazy' } }],
    ['the removed fields', { removedFields: ['firstName'] }],
    ['the added fields', { addedFields: ['fullName', 'initials'] }],
    ['the source of up', { up: (doc) => ({ ...doc, fullName: '' }) }],
    ['the source of down', { down: (doc) => doc }],
    ['dropping down', { down: undefined }],
    ['the source of verify', { verify: () => true }],
  ])('changes when %s changes', (_what, overrides) => {
    expect(checksumOf(fullNameMigration(overrides))).not.toBe(checksumOf(fullNameMigration()));
  });

  it('ignores the description, which is documentation only', () => {
    expect(checksumOf(fullNameMigration({ description: 'reworded' }))).toBe(checksumOf(fullNameMigration()));
  });
});

describe('open target kinds', () => {
  /** A backend that core has never heard of, with its own target type and checks. */
  interface TableTarget extends MigrationTarget {
    kind: 'table';
    table: string;
  }
  const tableKind: TargetKind<TableTarget> = {
    kind: 'table',
    problems: (target) => (typeof target['table'] === 'string' && /^[a-z_]+$/.test(target['table']) ? [] : [`target.table must be a lower-case table name, got ${JSON.stringify(target['table'])}`]),
  };
  const onTable = (table: unknown) => fullNameMigration({ id: 'customers.on-table', target: { kind: 'table', table } });

  it('registers a migration of a kind that core does not know, and names its target', () => {
    const def = onTable('customers_v');
    expect(() => MigrationRegistry.create([def])).not.toThrow();
    expect(targetName(def.target)).toBe('customers_v');
    expect(MigrationRegistry.create([def]).chains().get('customers_v')?.map((d) => d.id)).toEqual(['customers.on-table']);
  });

  it("names a target by its name field first, else by its first string field after kind", () => {
    expect(targetName({ kind: 'x', name: 'shown', collection: 'other' })).toBe('shown');
    expect(targetName({ kind: 'redis', keyPattern: 'session:*', versioning: 'value' })).toBe('session:*');
    expect(targetName({ kind: 'x', shards: 3 })).toBe('');
  });

  it("leaves the target's own fields to its backend, which refuses a bad one naming the problem", () => {
    const bad = onTable('Customers V');
    expect(() => MigrationRegistry.create([bad])).not.toThrow();
    expect(targetKindProblems([bad, fullNameMigration()], tableKind)).toEqual([
      { migrationId: 'customers.on-table', code: 'invalid-field', message: 'target.table must be a lower-case table name, got "Customers V"' },
    ]);
    expect(() => targetOf(bad, tableKind)).toThrow(/customers.on-table: target.table must be a lower-case table name/);
    expect(targetOf(onTable('customers_v'), tableKind).table).toBe('customers_v');
  });

  it('refuses a definition of another kind, naming the backend it belongs to', () => {
    expect(() => targetOf(fullNameMigration(), tableKind)).toThrow('customers.full-name: targets mongo, not table; give it to the mongo backend');
  });
});
