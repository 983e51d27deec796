/** A customer's name as v1 documents store it. */
export interface SplitName {
  firstName: string;
  lastName: string;
}

/** Joins the v1 name fields into the v2 `fullName`: trimmed, one space between. */
export function joinFullName({ firstName, lastName }: SplitName): string {
  return [firstName.trim(), lastName.trim()].filter(Boolean).join(' ');
}

/**
 * Splits a v2 `fullName` back into v1 fields at the last space, so that
 * `splitFullName(joinFullName(n))` gives `n` back whenever the last name has no space.
 */
export function splitFullName(fullName: string): SplitName {
  const name = fullName.trim();
  const at = name.lastIndexOf(' ');
  return at < 0 ? { firstName: name, lastName: '' } : { firstName: name.slice(0, at), lastName: name.slice(at + 1) };
}
