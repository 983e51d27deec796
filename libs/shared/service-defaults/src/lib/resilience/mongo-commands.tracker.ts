import { waitingOn } from './request-deadline';

type MonitorEvent =
  | 'commandStarted'
  | 'commandSucceeded'
  | 'commandFailed'
  | 'connectionCheckOutStarted'
  | 'connectionCheckedOut'
  | 'connectionCheckOutFailed';

/** What {@link trackMongoCommands} needs of a MongoDB client created with `monitorCommands: true`. */
export interface CommandMonitor {
  on(event: MonitorEvent, listener: (event: { requestId?: number }) => void): unknown;
}

/**
 * Marks every wait of a request on the MongoDB client as a call to `dependency` until it is
 * over: waiting for a pooled connection, and each command until its answer arrives. A request
 * whose deadline passes while the store is frozen or slow is then answered 503 naming it (reads,
 * writes and anything else the client sends), not 504. Needs the client's command monitoring
 * (`monitorCommands: true`); connection pool events are always on.
 */
export function trackMongoCommands(client: CommandMonitor, dependency = 'mongo'): void {
  // Both waits start in the caller's async context (the request's) and end in the socket's: the
  // commands are paired by request id, the check-outs in order (the pool serves its queue in order).
  const commands = new Map<number, () => void>();
  const checkOuts: (() => void)[] = [];
  client.on('commandStarted', ({ requestId }) => {
    if (requestId !== undefined) commands.set(requestId, waitingOn(dependency));
  });
  const commandOver = ({ requestId }: { requestId?: number }) => {
    if (requestId === undefined) return;
    commands.get(requestId)?.();
    commands.delete(requestId);
  };
  client.on('commandSucceeded', commandOver);
  client.on('commandFailed', commandOver);
  client.on('connectionCheckOutStarted', () => {
    checkOuts.push(waitingOn(dependency));
  });
  const checkOutOver = () => checkOuts.shift()?.();
  client.on('connectionCheckedOut', checkOutOver);
  client.on('connectionCheckOutFailed', checkOutOver);
}
