// `sfsync migrate`: create or upgrade the sfsync schema (openDatabase migrates; this just reports it).
import { loadConfig, type Env } from '../lib/config.ts';
import { commandLogger } from './logger.ts';
import { describeUrl, openDatabase } from '../pipelines/runtime/database.ts';

export async function runMigrate(env: Env): Promise<void> {
  const config = loadConfig(env, { needSalesforce: false });
  const log = commandLogger(config);
  const db = await openDatabase(config, log);
  try {
    process.stdout.write(`sfsync schema is up to date in ${describeUrl(db.url)}\n`);
  } finally {
    await db.close();
  }
}
