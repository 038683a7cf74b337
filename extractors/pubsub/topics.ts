// Topic names (docs/salesforce.md#change-event-channels): an object's change events, a platform event's channel.
import { assertSoqlName } from '../soql.ts';

/** `Account` -> `/data/AccountChangeEvent`; a custom `Foo__c` drops its `c`: `/data/Foo__ChangeEvent`. */
export function changeTopicOf(object: string): string {
  assertSoqlName(object, 'Object');
  return `/data/${object.endsWith('__c') ? object.slice(0, -1) : object}ChangeEvent`;
}
