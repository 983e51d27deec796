// Releases recorded in deploy/releases, materialized from git and run as processes (see @zdm/dev-services).
export { materializeRelease, startRelease, stopRelease, type MaterializedRelease, type ReleaseProcess } from '@zdm/dev-services';
