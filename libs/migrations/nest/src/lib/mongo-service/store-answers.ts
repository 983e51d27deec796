import { ConflictException, ServiceUnavailableException } from '@nestjs/common';
import { DocumentWriteConflictError, isUnreadableVersion, WriteDeadlineExceededError } from '@zdm/migrations-mongo';
import { DependencyUnavailableError, waitingOn } from '@zdm/service-defaults';

/**
 * Runs `work` against the versioned store and turns its errors into HTTP answers: a document this
 * build cannot read is a 503 (this instance must not serve it; its readiness says so too), an update
 * that kept losing races is a 409, and a write whose deadline passed before it could be sent is a 503
 * naming `mongo` (nothing was written). A request still in `work` at its deadline is a 503 naming `mongo`.
 */
export async function answerFromStore<T>(work: () => Promise<T>): Promise<T> {
  const done = waitingOn('mongo');
  try {
    return await work();
  } catch (err) {
    if (isUnreadableVersion(err)) throw new ServiceUnavailableException(err.message);
    if (err instanceof DocumentWriteConflictError) throw new ConflictException(err.message);
    if (err instanceof WriteDeadlineExceededError) throw new DependencyUnavailableError('mongo', err.message);
    throw err;
  } finally {
    done();
  }
}
