import { objectIdPipe } from '@zdm/migrations-nest';

/** Accepts a customer id (24 hexadecimal characters) in the path; anything else is a 400 naming the field. */
export const CustomerIdPipe = objectIdPipe('customer');
