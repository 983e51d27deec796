import { flagNames } from './migration.types';
import { PHASES, Phase, describePhase, flagChanges, flagsForPhase, isPastContract, nextPhase, phaseCode, phasesOf } from './phases';
import { fullNameMigration, tierMigration } from './testing/migration.fixtures';

const expandContract = fullNameMigration();
const eager = tierMigration('eager');
const lazy = tierMigration('lazy');
const ec = flagNames(expandContract.id);
const add = flagNames(eager.id);

/** Walks `nextPhase` from `pending` until it returns null. */
function walk(def: Parameters<typeof nextPhase>[0]): Phase[] {
  const seen: Phase[] = ['pending'];
  for (let p = nextPhase(def, 'pending'); p; p = nextPhase(def, p)) seen.push(p);
  return seen;
}

describe('phasesOf and nextPhase', () => {
  it('takes an expand/contract migration through every phase', () => {
    const path = ['pending', 'expand', 'dual-write', 'backfill', 'verify', 'switch-reads', 'contract', 'complete'];
    expect(phasesOf(expandContract)).toEqual(path);
    expect(phasesOf({})).toEqual(path);
    expect(walk(expandContract)).toEqual(path);
  });

  it.each([
    ['eager', eager],
    ['lazy', lazy],
  ])('skips dual-write, switch-reads and contract for an additive %s migration', (_kind, def) => {
    expect(phasesOf(def)).toEqual(['pending', 'expand', 'backfill', 'verify', 'complete']);
    expect(walk(def)).toEqual(phasesOf(def));
  });

  it('has no next phase after complete, after rolled-back, or for a phase off the path', () => {
    expect(nextPhase(expandContract, 'complete')).toBeNull();
    expect(nextPhase(expandContract, 'rolled-back')).toBeNull();
    expect(nextPhase(eager, 'dual-write')).toBeNull();
    expect(nextPhase(eager, 'contract')).toBeNull();
  });

  it('numbers phases in declaration order for the phase gauge', () => {
    expect(PHASES.map(phaseCode)).toEqual(PHASES.map((_p, i) => i));
    expect(phaseCode('pending')).toBe(0);
    expect(phaseCode('rolled-back')).toBe(8);
  });
});

describe('isPastContract', () => {
  it('is true only in contract and complete', () => {
    expect(PHASES.filter(isPastContract)).toEqual(['contract', 'complete']);
  });
});

describe('flagsForPhase', () => {
  it.each<[Phase, boolean, boolean, boolean]>([
    ['pending', false, false, true],
    ['expand', false, false, true],
    ['dual-write', true, false, true],
    ['backfill', true, false, true],
    ['verify', true, false, true],
    ['switch-reads', true, true, true],
    ['contract', true, true, false],
    ['complete', true, true, false],
    ['rolled-back', false, false, true],
  ])('sets write-new, read-new, write-old for expand/contract in %s to %s, %s, %s', (phase, writeNew, readNew, writeOld) => {
    expect(flagsForPhase(expandContract, phase)).toEqual({ [ec.writeNew]: writeNew, [ec.readNew]: readNew, [ec.writeOld]: writeOld });
  });

  it('only switches write-new for an additive migration, on from backfill onwards', () => {
    const on = PHASES.filter((p) => flagsForPhase(eager, p)[add.writeNew]);
    expect(on).toEqual(['backfill', 'verify', 'complete']);
    for (const phase of PHASES) expect(Object.keys(flagsForPhase(eager, phase))).toEqual([add.writeNew]);
  });
});

describe('flagChanges', () => {
  it.each<[Phase, Phase, Record<string, boolean>]>([
    ['pending', 'expand', {}],
    ['expand', 'dual-write', { [ec.writeNew]: true }],
    ['dual-write', 'backfill', {}],
    ['backfill', 'verify', {}],
    ['verify', 'switch-reads', { [ec.readNew]: true }],
    ['switch-reads', 'contract', { [ec.writeOld]: false }],
    ['contract', 'complete', {}],
    ['switch-reads', 'rolled-back', { [ec.writeNew]: false, [ec.readNew]: false }],
    ['complete', 'rolled-back', { [ec.writeNew]: false, [ec.readNew]: false, [ec.writeOld]: true }],
  ])('flips, from %s into %s, exactly %j', (from, to, expected) => {
    expect(flagChanges(expandContract, from, to)).toEqual(expected);
  });

  it('turns write-new on when an additive migration enters backfill, and nothing else on its path', () => {
    const path = phasesOf(eager);
    const changes = path.slice(1).map((to, i) => [to, flagChanges(eager, path[i], to)]);
    expect(changes).toEqual([
      ['expand', {}],
      ['backfill', { [add.writeNew]: true }],
      ['verify', {}],
      ['complete', {}],
    ]);
  });
});

describe('describePhase', () => {
  it('describes every phase with the versions and fields of the migration', () => {
    expect(describePhase(expandContract, 'expand')).toContain('reads v1 and v2');
    expect(describePhase(expandContract, 'dual-write')).toContain('keep firstName, lastName');
    expect(describePhase(expandContract, 'contract')).toContain('stop writing firstName, lastName');
    expect(describePhase(eager, 'backfill')).toContain('no dual-write needed');
    expect(describePhase(lazy, 'backfill')).toContain('read-time default');
    expect(describePhase(fullNameMigration({ verify: undefined }), 'verify')).toContain('no verify()');
    for (const phase of PHASES) expect(describePhase(expandContract, phase).length).toBeGreaterThan(0);
  });
});
