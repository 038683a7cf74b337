// sfsync check's reading of token-endpoint refusals, and the object-name suggestions of sync and check.
import { describe, expect, it } from 'vitest';
import { diagnoseLogin } from '../../cli/loginDiagnosis.ts';
import { editDistance, suggestName } from '../../lib/didYouMean.ts';

const refused = (error: string, description: string) => ({
  status: 400,
  body: JSON.stringify({ error, error_description: description }),
  contentType: 'application/json',
});
const facts = { loginUrl: 'https://login.salesforce.com', flow: 'jwt', username: 'sync@acme.com' };

describe('diagnoseLogin', () => {
  it.each([
    ['a wrong key', refused('invalid_grant', 'invalid assertion'), 'SF_PRIVATE_KEY_PATH'],
    ['a wrong audience', refused('invalid_grant', 'audience is invalid'), 'SF_LOGIN_URL'],
    ['an unknown consumer key', refused('invalid_client_id', 'client identifier invalid'), 'SF_CLIENT_ID'],
    ['a clock behind', refused('invalid_grant', 'expired authorization code'), 'system clock'],
    ['no token endpoint', { status: 404, body: '<html></html>', contentType: 'text/html' }, 'SF_LOGIN_URL'],
    ['no answer', { status: 0, body: '', code: 'ENOTFOUND' }, 'SF_LOGIN_URL'],
  ])('names the setting for %s', (_, reply, setting) => {
    expect(diagnoseLogin(reply, facts).setting).toBe(setting);
  });

  it('names both the username and the pre-authorisation for "user hasn\'t approved this consumer"', () => {
    const d = diagnoseLogin(refused('invalid_grant', "user hasn't approved this consumer"), facts);
    expect(d.setting).toMatch(/SF_USERNAME/);
    expect(d.fix).toMatch(/pre-authorized/);
    const notAUsername = { ...facts, username: 'sync' };
    expect(diagnoseLogin(refused('invalid_grant', "user hasn't approved this consumer"), notAUsername).setting).toBe(
      'SF_USERNAME',
    );
  });

  it('says whether the certificate beside the key is the one to upload', () => {
    const reply = refused('invalid_grant', 'invalid assertion');
    expect(diagnoseLogin(reply, { ...facts, certificate: { path: '/x/sfsync.crt', matchesKey: true } }).fix).toMatch(
      /^upload \/x\/sfsync\.crt/,
    );
    expect(diagnoseLogin(reply, { ...facts, certificate: { path: '/x/sfsync.crt', matchesKey: false } }).fix).toMatch(
      /sfsync init/,
    );
  });
});

describe('suggestName', () => {
  const known = ['Account', 'Contact', 'Opportunity', 'AccountShare', 'Lead'];
  it('suggests the closest object for a typo, case-insensitively', () => {
    expect(editDistance('Acount', 'Account')).toBe(1);
    expect(suggestName('Acount', known)).toBe('Account');
    expect(suggestName('contcat', known)).toBe('Contact');
    expect(suggestName('Oportunity', known)).toBe('Opportunity');
  });
  it('suggests nothing for a name far from every object', () => {
    expect(suggestName('NoSuchThing__c', known)).toBeUndefined();
    expect(suggestName('Lx', known)).toBeUndefined();
  });
});
