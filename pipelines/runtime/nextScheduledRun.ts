// When `sfsync schedule` would next sync an object: the earliest tick after "now" of the schedule groups that include
// it. Pure arithmetic on cron expressions: no timer is started (`sfsync status`).
import { createTask, type ScheduledTask } from 'node-cron';
import type { ScheduleGroup } from '../../lib/config.ts';

/** The matcher a node-cron task finds its next tick with; its typings leave it out, so it is checked at run time. */
interface NextMatcher {
  getNextMatch(after: Date): Date;
}

function matcherOf(cron: string, timezone: string | undefined): NextMatcher {
  // A task that is never started sets no timer; destroying it takes it out of node-cron's task registry.
  const task = createTask(cron, () => {}, { timezone }) as ScheduledTask & { timeMatcher?: Partial<NextMatcher> };
  const matcher = task.timeMatcher;
  void task.destroy();
  if (typeof matcher?.getNextMatch !== 'function')
    throw new Error('node-cron no longer exposes a task.timeMatcher.getNextMatch(date): nextTick needs another way');
  return matcher as NextMatcher;
}

/**
 * The first tick of `cron` strictly after `after`, in `timezone` (else the machine's zone): node-cron's own matcher,
 * the one `sfsync schedule`'s tasks wait on, so the two cannot disagree (time zones, a leading seconds field,
 * daylight saving changes). null when node-cron finds no tick in the century it searches.
 */
export function nextTick(cron: string, timezone: string | undefined, after: Date): Date | null {
  const matcher = matcherOf(cron, timezone);
  try {
    return matcher.getNextMatch(after);
  } catch {
    return null;
  }
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
