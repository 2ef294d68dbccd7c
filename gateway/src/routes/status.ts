/** What the platform holds: the snapshot store's disk (admin only: it spans every tenant). */
import { ForbiddenError, isAdmin } from '@fn/registry';
import type { SnapshotDisk } from '../deps.js';
import { route, type Route } from '../route-book.js';
import { Status } from '../schemas.js';

export function statusRoutes(snapshots: SnapshotDisk | undefined): Route[] {
  return [
    route(
      {
        method: 'get',
        path: '/v1/status',
        operationId: 'status',
        summary: 'Disk the snapshot store holds (admin key only)',
        tag: 'status',
        status: 200,
        response: Status,
        errors: [403],
      },
      async ({ caller }) => {
        if (!isAdmin(caller)) throw new ForbiddenError('only an admin key can read the platform status: it spans every tenant. Use the admin key.');
        return { snapshots: snapshots ? await snapshots.usage() : null };
      },
    ),
  ];
}
