export * from './lib/users.repository';
export * from './lib/sessions.store';
