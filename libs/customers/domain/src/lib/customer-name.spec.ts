import { joinFullName, splitFullName } from './customer-name';

describe('customer name mapping', () => {
  it('joins first and last name with one space and trims both', () => {
    expect(joinFullName({ firstName: '  Ada ', lastName: 'Lovelace ' })).toBe('Ada Lovelace');
  });

  it('leaves no stray space when one part is empty', () => {
    expect(joinFullName({ firstName: 'Cher', lastName: '' })).toBe('Cher');
    expect(joinFullName({ firstName: '', lastName: 'Prince' })).toBe('Prince');
  });

  it('splits at the last space so multi-word first names survive a round trip', () => {
    const name = { firstName: 'Mary Ann', lastName: 'Evans' };
    expect(splitFullName(joinFullName(name))).toEqual(name);
  });

  it('puts a single word in firstName', () => {
    expect(splitFullName('Cher')).toEqual({ firstName: 'Cher', lastName: '' });
  });
});
