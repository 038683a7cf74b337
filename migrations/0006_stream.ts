// 0006: `sfsync stream`: per followed topic, the replay id of the last event applied (written in the transaction of the
// rows it produced, docs/salesforce.md#replay-ids) and what `sfsync status` shows of the stream.
import type { Knex } from 'knex';

export const name = '0006_stream';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').createTable('stream_state', (t) => {
    t.text('target_schema').notNullable();
    // /data/AccountChangeEvent, /event/Foo__e
    t.text('topic').notNullable();
    t.primary(['target_schema', 'topic']);
    // The sObject a change event topic feeds, or the platform event's name.
    t.text('object').notNullable();
    // Opaque bytes: never computed, only handed back to Salesforce.
    t.binary('replay_id');
    // commitTimestamp (change events) or publish time (platform events) of the last event applied.
    t.specificType('last_event_at', 'timestamptz');
    t.specificType('applied_at', 'timestamptz');
    t.bigInteger('events_applied').notNullable().defaultTo(0);
    // connected | reconnecting | catching-up | stopped
    t.text('status').notNullable().defaultTo('stopped');
    t.specificType('status_at', 'timestamptz').notNullable().defaultTo(knex.fn.now());
    // The backend of the streaming process's session: gone from pg_stat_activity = the process is gone.
    t.integer('backend_pid');
    t.text('error');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sfsync').dropTable('stream_state');
}
