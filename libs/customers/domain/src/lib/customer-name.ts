/** A customer's name as v1 documents (and old API clients) carry it. */
export interface SplitName {
  firstName: string;
  lastName: string;
}

/**
 * How v2 documents store a name: the full name, and where the first name ends in it.
 *
 * `fullName` alone cannot be split back exactly: "Mary Ann" + "Evans" and "Mary" + "Ann Evans" join
 * to the same string. Old clients must keep reading the exact parts they wrote, and rollback past
 * contract must restore them (`down(up(doc))` equal to `doc`), so the length of the first name is
 * kept beside it. Nothing is trimmed or collapsed here, so untrimmed legacy parts survive too.
 */
export interface StoredFullName {
  fullName: string;
  /** Characters of `fullName` that belong to the first name; a space follows when both parts are non-empty. */
  firstNameLength: number;
}

/** The v2 `fullName` of a name: both parts joined by one space, or the one non-empty part. */
export function joinFullName({ firstName, lastName }: SplitName): string {
  if (!lastName) return firstName;
  if (!firstName) return lastName;
  return `${firstName} ${lastName}`;
}

/** A name in its stored v2 form; {@link fromStoredFullName} gives exactly `name` back. */
export function toStoredFullName(name: SplitName): StoredFullName {
  return { fullName: joinFullName(name), firstNameLength: name.firstName.length };
}

/** Why a stored v2 name is not well formed, or null when it is. */
export function storedFullNameProblem(value: { fullName?: unknown; firstNameLength?: unknown }): string | null {
  const { fullName, firstNameLength: at } = value;
  if (typeof fullName !== 'string') return 'fullName must be a string';
  if (typeof at !== 'number' || !Number.isInteger(at) || at < 0 || at > fullName.length) {
    return `firstNameLength must be a whole number between 0 and ${fullName.length} (the length of fullName)`;
  }
  if (at > 0 && at < fullName.length && fullName[at] !== ' ') return `fullName must have a space right after the first ${at} characters`;
  return null;
}

/** The exact parts of a stored v2 name; throws when it is not well formed. */
export function fromStoredFullName(stored: StoredFullName): SplitName {
  const problem = storedFullNameProblem(stored);
  if (problem) throw new Error(problem);
  const { fullName, firstNameLength: at } = stored;
  if (at === 0) return { firstName: '', lastName: fullName };
  return { firstName: fullName.slice(0, at), lastName: fullName.slice(at + 1) };
}

/**
 * Splits a full name written by a client that sends only `fullName`: at the last space, so a
 * multi-word first name stays together ("Mary Ann Evans" -> "Mary Ann" + "Evans"), and
 * `joinFullName(splitFullName(s)) === s` for every trimmed string. A single word is a first name.
 */
export function splitFullName(fullName: string): SplitName {
  const at = fullName.lastIndexOf(' ');
  return at < 0 ? { firstName: fullName, lastName: '' } : { firstName: fullName.slice(0, at), lastName: fullName.slice(at + 1) };
}
