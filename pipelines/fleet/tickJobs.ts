// What `sfsync schedule --enqueue` queues at a group's tick: a sync job per object, then a job per relationship
// pipeline of the group, ranked in that order (pipelines/fleet/jobs.ts jobPriority).
import type { Config } from '../../lib/config.ts';
import type { ChosenPipelines } from '../relationships/syncPipelines.ts';
import { type JobData, ranked } from './jobs.ts';

export function tickJobs(config: Config, pipelines?: ChosenPipelines): JobData[] {
  const org = config.org ?? 'default';
  return ranked([
    ...config.objects.map((object) => ({ kind: 'sync' as const, org, schema: config.schema, object })),
    ...(pipelines?.pipelines ?? []).map((p) => ({
      kind: 'pipeline' as const,
      org,
      schema: config.schema,
      pipeline: p.name,
    })),
  ]);
}
