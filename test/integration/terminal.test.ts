// `sfsync sync` in a real terminal: a tmux pane of 120x40 is captured during and after a six-object sync. The live
// progress block must stay whole at the bottom, with only one line per finished object (never a multi-line log
// record) scrolling above it; the info records go to the log file.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/index.ts';
import { BIN } from '../support/cli.ts';
import { useTestDatabase } from '../support/db.ts';
import { emulatorEnv } from '../support/emulatorEnv.ts';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const db = useTestDatabase();
const OBJECTS = ['Account', 'Contact', 'Opportunity', 'Lead', 'User', 'Task'];
// A server of its own: no user session, settings or environment leak in.
const socket = `sfsync-test-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

const PROGRESS = /^(\S+)\s+\S+\s+[\d,]+ records\s+[\d,]+\/s\s/;
const DONE = /^\d\d:\d\d:\d\d done (\S+): (initial|incremental) via (bulk|rest): [\d,]+ read, /;

describe.skipIf(!hasTmux)('sfsync sync in a terminal (skipped: tmux is not installed)', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, accounts: 3_000, seed: 7 });
    // Slow Bulk jobs a little, so the block is surely on screen while the test looks.
    emulator.admin.setBulkLatency({ latencyMs: 1_500 });
  });
  afterAll(async () => {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    await emulator?.close();
  });

  it('keeps the block at the bottom, one line per finished object above it, the rest in the log file', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'sfsync-tty-'));
    const env = emulatorEnv(emulator, db.url, { SFSYNC_SCHEMA: 'tty_test', SFSYNC_HOME: home, LOG_LEVEL: 'info' });
    const vars = Object.entries({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env })
      .map(([k, v]) => `${k}=${quote(v)}`)
      .join(' ');
    const sync = `${quote(process.execPath)} ${quote(BIN)} sync`;
    const command = `env -i ${vars} TERM=xterm-256color ${sync}; echo EXIT=$?; sleep 600`;
    tmux('new-session', '-d', '-s', 'sync', '-x', '120', '-y', '40', command);

    const during: string[][] = [];
    let final: string[] = [];
    for (let i = 0; i < 600; i++) {
      const screen = tmux('capture-pane', '-p', '-t', 'sync').split('\n');
      const lines = screen.map((l) => l.trimEnd()).filter(Boolean);
      if (lines.some((l) => l.startsWith('EXIT='))) {
        final = lines;
        break;
      }
      if (lines.some((l) => PROGRESS.test(l))) during.push(lines);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(final.join('\n')).toContain('EXIT=0');

    expect(during.length).toBeGreaterThan(0);
    for (const lines of during) {
      const kinds = lines.map((l) => (PROGRESS.test(l) ? 'progress' : DONE.test(l) ? 'done' : 'other'));
      // Nothing but finished objects above the block, and the block whole on the bottom lines.
      expect(
        lines.filter((_, i) => kinds[i] === 'other'),
        lines.join('\n'),
      ).toEqual([]);
      const first = kinds.indexOf('progress');
      expect(
        kinds.slice(first).every((k) => k === 'progress'),
        lines.join('\n'),
      ).toBe(true);
      const inFlight = lines.slice(first).map((l) => PROGRESS.exec(l)?.[1]);
      expect(new Set(inFlight).size).toBe(inFlight.length);
      const done = lines.filter((l) => DONE.test(l)).map((l) => DONE.exec(l)?.[1]);
      expect(new Set(done).size).toBe(done.length);
      for (const object of done) expect(inFlight).not.toContain(object);
    }

    // After: one line per object, the summary with grouped counts, and no progress line left behind.
    const done = final.filter((l) => DONE.test(l)).map((l) => DONE.exec(l)?.[1]);
    expect([...done].sort()).toEqual([...OBJECTS].sort());
    expect(final.filter((l) => PROGRESS.test(l))).toEqual([]);
    expect(final.join('\n')).toMatch(/^Account\s+initial\s+3,000 read, 3,000 inserted, 0 updated via bulk/m);
    expect(final.filter((l) => !DONE.test(l) && !/^(object|---|EXIT=)/.test(l) && !/^\S+\s+initial\s/.test(l))).toEqual(
      [],
    );

    // The info records the screen left out are in the log file, as JSON.
    const records = readFileSync(path.join(home, 'logs', 'sfsync.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    expect(records.filter((r) => r.msg === 'object sync started')).toHaveLength(6);
    expect(records.filter((r) => r.msg === 'object synced')).toHaveLength(6);
  });
});
