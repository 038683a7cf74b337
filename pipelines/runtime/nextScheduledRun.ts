// When `sfsync schedule` would next sync an object: the earliest tick after "now" of the schedule groups that include
// it. Pure arithmetic on cron expressions: no timer is started (issue 7 item 3, `sfsync status`).
import { Cron } from 'croner';
import type { ScheduleGroup } from '../../lib/config.ts';

/**
 * The first tick of `cron` strictly after `after`, in `timezone` (else the machine's zone, as node-cron does).
 * node-cron runs the schedule but only says when a started task fires next, relative to the wall clock, so the
 * arithmetic is croner's, set to read expressions as node-cron does: a day matches only when day-of-month AND
 * day-of-week both match (croner's default is Vixie cron's OR), and a wall-clock time that a spring-forward change
 * skips is not run that day (croner would run it just after the gap). One difference is left: when clocks go back,
 * a tick inside the repeated hour may be an hour off, as node-cron picks the occurrence by the zone's offset.
 */
export function nextTick(cron: string, timezone: string | undefined, after: Date): Date | null {
  const job = new Cron(cron, { timezone, domAndDow: true });
  let next = job.nextRun(after);
  while (next && !job.match(next)) next = job.nextRun(next);
  return next;
}

/**
 * The next scheduled sync of `object`, or null when no group syncs it. A group without its own object list syncs
 * every configured object, as `sfsync schedule` does. Salesforce API names are case-insensitive.
 */
export function nextScheduledRun(
  object: string,
  groups: readonly ScheduleGroup[],
  configured: readonly string[],
  now: Date,
): Date | null {
  const name = object.toLowerCase();
  let earliest: Date | null = null;
  for (const g of groups) {
    if (!(g.objects ?? configured).some((o) => o.toLowerCase() === name)) continue;
    const next = nextTick(g.cron, g.timezone, now);
    if (next && (!earliest || next < earliest)) earliest = next;
  }
  return earliest;
}
