/** Every status a customer can have (v3). */
export const CUSTOMER_STATUSES = ['Active', 'Inactive', 'Blocked'] as const;

export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];

/** The status of customers stored before v3, and of new customers that do not name one. */
export const DEFAULT_CUSTOMER_STATUS: CustomerStatus = 'Active';

/** Which channels a customer agreed to receive marketing on (v3); null until they said. */
export interface MarketingPreferences {
  email: boolean;
  sms: boolean;
}

/** Why a value is not a status, or null when it is one. */
export function statusProblem(value: unknown): string | null {
  return (CUSTOMER_STATUSES as readonly unknown[]).includes(value) ? null : `status must be one of ${CUSTOMER_STATUSES.join(', ')}`;
}

/** Why a value is not `null` or marketing preferences, or null when it is fine. */
export function marketingPreferencesProblem(value: unknown): string | null {
  if (value === null) return null;
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'marketingPreferences must be null or { email, sms }';
  const keys = Object.keys(value).sort();
  if (keys.join(',') !== 'email,sms') return 'marketingPreferences must have exactly the keys email and sms';
  const { email, sms } = value as Record<string, unknown>;
  return typeof email === 'boolean' && typeof sms === 'boolean' ? null : 'marketingPreferences.email and .sms must be true or false';
}
