import { Customer, namesDisagree, readCustomer, storedShape } from './customer-shapes';

const ludwig: Customer = {
  firstName: 'Ludwig',
  lastName: 'van Beethoven',
  fullName: 'Ludwig van Beethoven',
  status: 'Inactive',
  marketingPreferences: { email: true, sms: false },
};

describe('what a write stores, per phase', () => {
  it('stores only the v1 fields while write-new is off, removing any newer ones', () => {
    expect(storedShape(ludwig, { version: 1, writeOld: true })).toEqual({
      set: { firstName: 'Ludwig', lastName: 'van Beethoven' },
      unset: ['fullName', 'firstNameLength', 'status', 'marketingPreferences'],
    });
  });

  it('stores v2 with the old fields kept during dual-write, backfill, verify and switch-reads', () => {
    expect(storedShape(ludwig, { version: 2, writeOld: true })).toEqual({
      set: { fullName: 'Ludwig van Beethoven', firstNameLength: 6, firstName: 'Ludwig', lastName: 'van Beethoven' },
      unset: ['status', 'marketingPreferences'],
    });
  });

  it('stops writing and removes the old fields once write-old is off (contract)', () => {
    expect(storedShape(ludwig, { version: 2, writeOld: false })).toEqual({
      set: { fullName: 'Ludwig van Beethoven', firstNameLength: 6 },
      unset: ['firstName', 'lastName', 'status', 'marketingPreferences'],
    });
  });

  it('adds status and marketing preferences at v3 without touching the name fields', () => {
    expect(storedShape(ludwig, { version: 3, writeOld: false })).toEqual({
      set: { fullName: 'Ludwig van Beethoven', firstNameLength: 6, status: 'Inactive', marketingPreferences: { email: true, sms: false } },
      unset: ['firstName', 'lastName'],
    });
  });
});

describe('what a read shows, per read-new flag', () => {
  const disagreeing = { firstName: 'Old', lastName: 'Name', fullName: 'New Name', firstNameLength: 3 };

  it('takes the name from firstName/lastName while read-new is off, and from fullName once it is on', () => {
    expect(readCustomer(disagreeing, { readNew: false })).toMatchObject({ firstName: 'Old', lastName: 'Name', fullName: 'Old Name' });
    expect(readCustomer(disagreeing, { readNew: true })).toMatchObject({ firstName: 'New', lastName: 'Name', fullName: 'New Name' });
  });

  it('reads a contracted document (no old fields) even with read-new off, exactly', () => {
    const contracted = { fullName: 'Ludwig van Beethoven', firstNameLength: 6 };
    expect(readCustomer(contracted, { readNew: false })).toMatchObject({ firstName: 'Ludwig', lastName: 'van Beethoven' });
  });

  it('reads the read-time defaults of v3 fields a document does not carry yet', () => {
    expect(readCustomer({ firstName: 'A', lastName: 'B' }, { readNew: false })).toMatchObject({ status: 'Active', marketingPreferences: null });
  });

  it('refuses a document without any usable name', () => {
    expect(() => readCustomer({ fullName: 'X', firstNameLength: 9 }, { readNew: true })).toThrow(/neither/);
  });

  it('counts a document whose two name shapes disagree as a shadow-read mismatch', () => {
    expect(namesDisagree(disagreeing)).toBe(true);
    expect(namesDisagree({ firstName: 'Mary Ann', lastName: 'Evans', fullName: 'Mary Ann Evans', firstNameLength: 8 })).toBe(false);
    expect(namesDisagree({ firstName: 'Mary Ann', lastName: 'Evans', fullName: 'Mary Ann Evans', firstNameLength: 4 })).toBe(true);
    expect(namesDisagree({ firstName: 'A', lastName: 'B' })).toBe(false);
  });
});
