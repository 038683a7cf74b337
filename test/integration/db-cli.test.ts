// The demo's warehouse after the demo: the command it prints, `sfsync sql`, and `sfsync db start|url|status|stop`
// keeping the embedded PostgreSQL running between commands. Spawned CLI, embedded PostgreSQL under a folder of its own.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { dataDirsOf } from '../../loaders/embeddedCluster.ts';
import { runCli } from '../support/cli.ts';

const base = path.resolve('.sfsync-test');
let home: string | undefined;

/** The arguments of a printed `npx sfsync ...` line: words, and one double-quoted argument. */
function argsOf(line: string): string[] {
  const rest = line.trim().replace(/^npx sfsync /, '');
  return [...rest.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** A zombie counts as stopped: once `db start` has exited, reaping the server is up to whoever adopted it. */
async function isAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return false;
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

describe('sfsync db and sql', () => {
  afterAll(async () => {
    if (!home) return;
    await runCli(['db', 'stop'], { SFSYNC_HOME: home });
    // As root the data may live outside the home (a folder the postgres user can reach): remove it too.
    const [own, , ...relocated] = await dataDirsOf(path.join(home, 'pg'));
    for (const dir of relocated) if (dir !== own) await rm(path.dirname(dir), { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  });

  it('the demo prints a command that queries its warehouse; db start keeps the server until db stop', async () => {
    await mkdir(base, { recursive: true });
    home = await mkdtemp(path.join(base, 'db-cli-'));
    const env = { SFSYNC_HOME: home };

    // A config file of the user's (here one with several orgs) is not the demo's: the demo syncs its emulator only.
    const userConfig = path.join(home, 'sfsync.config.json');
    await writeFile(userConfig, JSON.stringify({ orgs: [{ name: 'east', clientId: 'x', username: 'u' }] }));
    const demo = await runCli(['demo', '--accounts', '20'], { ...env, SFSYNC_CONFIG: userConfig });
    expect(demo.code, demo.stderr).toBe(0);
    const printed = demo.stdout.split('\n').find((l) => l.trim().startsWith('npx sfsync sql '));
    expect(printed, demo.stdout).toBeDefined();

    // The server stopped with the demo: the printed command starts it for the query.
    const count = await runCli(argsOf(printed!), env);
    expect(count.code, count.stderr).toBe(0);
    expect(count.stdout).toMatch(/^count\n-+\n25\n\(1 row\)\n$/);
    const json = await runCli(['sql', '--json', 'select id, name from sfsync_demo.account order by id limit 2'], env);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ command: 'SELECT', rowCount: 2 });
    const bad = await runCli(['sql', 'select * from sfsync_demo.nothing_here'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('sfsync: relation "sfsync_demo.nothing_here" does not exist');

    const notYet = await runCli(['db', 'url'], env);
    expect(notYet.code).toBe(1);
    expect(notYet.stderr).toMatch(/^sfsync: the embedded PostgreSQL is not running: start it with `sfsync db start`/);

    const start = await runCli(['db', 'start'], env);
    expect(start.code, start.stderr).toBe(0);
    const url = (await runCli(['db', 'url'], env)).stdout.trim();
    expect(start.stdout.trim().split('\n').at(-1)).toBe(url);
    expect(url).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/sfsync$/);
    const server = JSON.parse(await readFile(path.join(home, 'pg', 'server.json'), 'utf8'));
    expect(server.port).toBe(Number(new URL(url).port));

    // Any client reaches it after the command ended, and sfsync commands share it.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM sfsync_demo.contact');
      expect(rows[0].n).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
    expect((await runCli(argsOf(printed!), env)).stdout).toMatch(/\n25\n/);
    expect(await isAlive(server.pid)).toBe(true);
    const status = JSON.parse((await runCli(['db', 'status', '--json'], env)).stdout);
    expect(status).toMatchObject({ running: true, port: server.port, background: { pid: server.pid } });
    expect((await runCli(['db', 'start'], env)).stdout).toMatch(/already running/);

    const stop = await runCli(['db', 'stop'], env);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toBe('embedded PostgreSQL stopped\n');
    expect(await isAlive(server.pid)).toBe(false);
    expect(JSON.parse((await runCli(['db', 'status', '--json'], env)).stdout)).toMatchObject({ running: false });
    expect((await runCli(['db', 'stop'], env)).stdout).toBe('embedded PostgreSQL not running\n');
  }, 180_000);
});
