import type { Doc } from '@zdm/migrations-core';
import { SplitName, fromStoredFullName, joinFullName, storedFullNameProblem, toStoredFullName } from './customer-name';
import { CustomerStatus, DEFAULT_CUSTOMER_STATUS, MarketingPreferences } from './customer-status';

/** A customer as the service works with it, whatever shape it is stored in. */
export interface Customer extends SplitName {
  fullName: string;
  status: CustomerStatus;
  marketingPreferences: MarketingPreferences | null;
}

/** What is stored of a customer: everything but the derived `fullName`. */
export type CustomerData = Omit<Customer, 'fullName'>;

/** How this instance writes right now; taken once per request from the flags. */
export interface WritePlan {
  /** Document version to store (1, 2 or 3), following the write-new flags. */
  version: number;
  /** Whether v2+ documents still carry `firstName`/`lastName` for v1 readers (write-old flag). */
  writeOld: boolean;
}

/** How this instance reads right now. */
export interface ReadPlan {
  /** Whether names come from `fullName` (read-new flag) rather than `firstName`/`lastName`. */
  readNew: boolean;
}

/** The fields an update sets and removes. */
export interface StoredShape {
  set: Doc;
  unset: string[];
}

const OLD_NAME_FIELDS = ['firstName', 'lastName'];
const NEW_NAME_FIELDS = ['fullName', 'firstNameLength'];
const V3_FIELDS = ['status', 'marketingPreferences'];

function oldName(doc: Doc): SplitName | null {
  const { firstName, lastName } = doc;
  return typeof firstName === 'string' && typeof lastName === 'string' ? { firstName, lastName } : null;
}

function newName(doc: Doc): SplitName | null {
  if (storedFullNameProblem(doc)) return null;
  return fromStoredFullName({ fullName: doc['fullName'] as string, firstNameLength: doc['firstNameLength'] as number });
}

/**
 * The customer in a stored document upcast to v3. With read-new on, the name comes from
 * `fullName` (+ `firstNameLength`); with it off, from `firstName`/`lastName`. Either way, a document
 * that lacks the preferred fields (contracted, or not yet dual-written) is read from the others.
 */
export function readCustomer(doc: Doc, plan: ReadPlan): Customer {
  const name = plan.readNew ? (newName(doc) ?? oldName(doc)) : (oldName(doc) ?? newName(doc));
  if (!name) throw new Error('the stored customer has neither firstName/lastName nor a well-formed fullName');
  return {
    ...name,
    fullName: joinFullName(name),
    status: (doc['status'] as CustomerStatus | undefined) ?? DEFAULT_CUSTOMER_STATUS,
    marketingPreferences: (doc['marketingPreferences'] as MarketingPreferences | null | undefined) ?? null,
  };
}

/**
 * Whether a document carries both name shapes and they disagree (a shadow-read mismatch): the
 * old fields say one name and `fullName` another.
 */
export function namesDisagree(doc: Doc): boolean {
  const old = oldName(doc);
  if (!old || doc['fullName'] === undefined) return false;
  const fresh = newName(doc);
  return !fresh || fresh.firstName !== old.firstName || fresh.lastName !== old.lastName;
}

/**
 * What to store for `customer` under `plan`: exactly the fields of the planned version, and the
 * removal of every other managed field, so a write never leaves a stale field of another shape.
 * - v1: `firstName`, `lastName`.
 * - v2: `fullName`, `firstNameLength`, plus `firstName`/`lastName` while write-old is on.
 * - v3: the v2 fields, plus `status` and `marketingPreferences`.
 */
export function storedShape(customer: CustomerData, plan: WritePlan): StoredShape {
  const set: Doc = {};
  const unset: string[] = [];
  const name = { firstName: customer.firstName, lastName: customer.lastName };
  if (plan.version >= 2) {
    Object.assign(set, toStoredFullName(name));
    if (plan.writeOld) Object.assign(set, name);
    else unset.push(...OLD_NAME_FIELDS);
  } else {
    Object.assign(set, name);
    unset.push(...NEW_NAME_FIELDS);
  }
  if (plan.version >= 3) Object.assign(set, { status: customer.status, marketingPreferences: customer.marketingPreferences });
  else unset.push(...V3_FIELDS);
  return { set, unset };
}
