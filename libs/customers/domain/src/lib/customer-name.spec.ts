import { fromStoredFullName, joinFullName, splitFullName, storedFullNameProblem, toStoredFullName } from './customer-name';

/** Random name parts from a seeded generator: spaces anywhere, empty parts, multi-word parts. */
function* randomNames(seed: number, count: number) {
  let a = seed;
  const random = () => ((a = (a * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const alphabet = ['a', 'b', 'Z', ' ', ' ', 'é', '-', "'"];
  const part = () => Array.from({ length: Math.floor(random() * 7) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  for (let i = 0; i < count; i++) yield { firstName: part(), lastName: part() };
}

describe('customer name mapping', () => {
  it('joins first and last name with one space', () => {
    expect(joinFullName({ firstName: 'Ada', lastName: 'Lovelace' })).toBe('Ada Lovelace');
    expect(joinFullName({ firstName: 'Mary Ann', lastName: 'Evans' })).toBe('Mary Ann Evans');
  });

  it('leaves no stray space when one part is empty', () => {
    expect(joinFullName({ firstName: 'Cher', lastName: '' })).toBe('Cher');
    expect(joinFullName({ firstName: '', lastName: 'Prince' })).toBe('Prince');
  });

  it('keeps where the first name ends, so parts containing spaces split back exactly', () => {
    const ludwig = { firstName: 'Ludwig', lastName: 'van Beethoven' };
    const mary = { firstName: 'Mary Ann', lastName: 'Evans' };
    expect(toStoredFullName(ludwig)).toEqual({ fullName: 'Ludwig van Beethoven', firstNameLength: 6 });
    expect(fromStoredFullName(toStoredFullName(ludwig))).toEqual(ludwig);
    expect(fromStoredFullName(toStoredFullName(mary))).toEqual(mary);
  });

  it('gives back exactly the parts it was given, for 5000 random names with spaces and empty parts', () => {
    for (const name of randomNames(7, 5_000)) {
      const stored = toStoredFullName(name);
      expect(storedFullNameProblem(stored)).toBeNull();
      expect(fromStoredFullName(stored)).toEqual(name);
    }
  });

  it('explains a stored name it cannot split', () => {
    expect(storedFullNameProblem({ fullName: 'Ada Lovelace', firstNameLength: 2 })).toBe('fullName must have a space right after the first 2 characters');
    expect(storedFullNameProblem({ fullName: 'Ada', firstNameLength: 4 })).toMatch(/between 0 and 3/);
    expect(storedFullNameProblem({ fullName: 'Ada', firstNameLength: 1.5 })).toMatch(/whole number/);
    expect(storedFullNameProblem({ fullName: 42, firstNameLength: 0 })).toBe('fullName must be a string');
    expect(() => fromStoredFullName({ fullName: 'Ada Lovelace', firstNameLength: 2 })).toThrow(/space right after/);
  });

  it('splits a full name sent alone at the last space, and joins it back to the same string', () => {
    expect(splitFullName('Mary Ann Evans')).toEqual({ firstName: 'Mary Ann', lastName: 'Evans' });
    expect(splitFullName('Cher')).toEqual({ firstName: 'Cher', lastName: '' });
    for (const name of randomNames(11, 2_000)) {
      const full = joinFullName(name).trim();
      expect(joinFullName(splitFullName(full))).toBe(full);
    }
  });
});
