// Pure parts of schedule/status/docs: which cron groups run, how lag reads, how Markdown cells are escaped.
import { describe, expect, it } from 'vitest';
import { formatDictionaryMarkdown } from '../../cli/docs.ts';
import { DEFAULT_CRON, resolveGroups } from '../../cli/schedule.ts';
import { formatLag } from '../../cli/status.ts';
import { lagSeconds } from '../../pipelines/runtime/status.ts';

describe('resolveGroups', () => {
  const file = [
    { cron: '0 3 * * *', objects: ['Account'] },
    { cron: '*/15 * * * *', objects: ['Task'], timezone: 'UTC' },
  ];

  it('uses --cron over the config file, else the file, else the nightly default', () => {
    expect(resolveGroups({ cron: '*/5 * * * * *' }, file)).toEqual([
      { cron: '*/5 * * * * *', objects: undefined, timezone: undefined },
    ]);
    expect(resolveGroups({}, file)).toEqual(file);
    expect(resolveGroups({}, [])).toEqual([{ cron: DEFAULT_CRON, objects: undefined, timezone: undefined }]);
  });

  it('lets --objects and --tz override every group', () => {
    expect(
      resolveGroups({ objects: 'Lead, Contact', tz: 'Europe/Paris' }, file).map((g) => [g.objects, g.timezone]),
    ).toEqual([
      [['Lead', 'Contact'], 'Europe/Paris'],
      [['Lead', 'Contact'], 'Europe/Paris'],
    ]);
  });

  it('refuses a bad cron expression or time zone', () => {
    expect(() => resolveGroups({ cron: '61 * * * *' }, [])).toThrow(/cron expression '61 \* \* \* \*' is not valid/);
    expect(() => resolveGroups({ tz: 'Mars/Olympus' }, [])).toThrow(/--tz 'Mars\/Olympus'/);
  });
});

describe('lag', () => {
  it('counts seconds from the watermark and prints the two largest units', () => {
    expect(lagSeconds('2024-01-01T00:00:00.000Z', new Date('2024-01-01T01:02:03.400Z'))).toBe(3723);
    expect(lagSeconds(undefined, new Date())).toBeNull();
    expect(formatLag(3723)).toBe('1h 2m');
    expect(formatLag(45)).toBe('45s');
    expect(formatLag(0)).toBe('0s');
    expect(formatLag(2 * 86_400 + 5)).toBe('2d 0h');
    expect(formatLag(null)).toBe('-');
  });
});

describe('formatDictionaryMarkdown', () => {
  it('escapes pipes and newlines in comments, and says when nothing is synced yet', () => {
    const md = formatDictionaryMarkdown({
      schema: 's',
      tables: [
        { name: 't', kind: 'table', description: 'T', columns: [{ name: 'c', type: 'text', description: 'a | b\nc' }] },
      ],
    });
    expect(md).toContain('| `c` | text | a \\| b c |');
    expect(formatDictionaryMarkdown({ schema: 's', tables: [] })).toContain('No tables in schema `s` yet');
  });
});
