import { CursorPageQuery, OBJECT_ID_PATTERN } from '@zdm/migrations-nest';

/** A customer id or cursor: 24 hexadecimal characters. */
export const CUSTOMER_ID_PATTERN = OBJECT_ID_PATTERN;

/** The query of `GET /customers`: `limit` and `after`. */
export class ListCustomersQuery extends CursorPageQuery {}
