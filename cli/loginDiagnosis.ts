// What a refused login says about the settings: the token endpoint's refusal (docs/salesforce.md#oauth-jwt-bearer-flow,
// #oauth-token-endpoint) -> the setting to fix and how. Pure, so every documented refusal is unit-tested.

export interface LoginReply {
  /** 0: no HTTP answer (`code` says why). */
  status: number;
  body: string;
  contentType?: string;
  /** The socket error's code when status is 0 (ENOTFOUND, ECONNREFUSED, ETIMEDOUT, ...). */
  code?: string;
}

export interface LoginDiagnosis {
  /** The environment variable (or app setting) that is wrong. */
  setting: string;
  detail: string;
  fix: string;
}

export interface LoginFacts {
  loginUrl: string;
  flow: string;
  username?: string;
  /** For "invalid assertion": whether a certificate beside the key matches it, and its path. */
  certificate?: { path: string; matchesKey: boolean };
}

const LOGIN_HOSTS =
  'https://login.salesforce.com (production), https://test.salesforce.com (sandbox) or the My Domain URL ' +
  '(https://<domain>.my.salesforce.com)';

/** The token endpoint's `{error, error_description}` (docs/salesforce.md#oauth-token-endpoint), if the body is one. */
export function oauthRefusal(reply: LoginReply): { error: string; description: string } | undefined {
  if (reply.status !== 400 && reply.status !== 401) return undefined;
  try {
    const j = JSON.parse(reply.body) as { error?: unknown; error_description?: unknown };
    if (typeof j?.error !== 'string') return undefined;
    return { error: j.error, description: typeof j.error_description === 'string' ? j.error_description : '' };
  } catch {
    return undefined;
  }
}

export function diagnoseLogin(reply: LoginReply, facts: LoginFacts): LoginDiagnosis {
  const at = facts.loginUrl;
  if (reply.status === 0)
    return {
      setting: 'SF_LOGIN_URL',
      detail: `no answer from ${at} (${reply.code ?? 'unreachable'})`,
      fix: `set SF_LOGIN_URL to ${LOGIN_HOSTS}`,
    };
  const refusal = oauthRefusal(reply);
  if (!refusal) {
    // docs/salesforce.md#error-bodies: an HTML page (or anything but the OAuth JSON) means a wrong host.
    const what = /html/i.test(reply.contentType ?? '') || reply.body.trim().startsWith('<') ? ' an HTML page' : '';
    return {
      setting: 'SF_LOGIN_URL',
      detail: `${at} answered HTTP ${reply.status}${what}, not a Salesforce token endpoint`,
      fix: `set SF_LOGIN_URL to ${LOGIN_HOSTS}; not a Lightning (*.lightning.force.com) or instance URL`,
    };
  }
  const { error, description } = refusal;
  const said = `${error}: ${description}`;
  if (error === 'invalid_client_id')
    return {
      setting: 'SF_CLIENT_ID',
      detail: `${said}: ${at} knows no app with this consumer key`,
      fix:
        'copy the Consumer Key from the app (Setup > App Manager > the app > View > Manage Consumer Details); an app ' +
        'made in a sandbox logs in at https://test.salesforce.com (SF_LOGIN_URL), one made in production at ' +
        'https://login.salesforce.com',
    };
  if (error === 'invalid_client' || error === 'invalid_client_credentials')
    return {
      setting: 'SF_CLIENT_SECRET',
      detail: said,
      fix: 'copy the Consumer Secret from the app (Manage Consumer Details) into SF_CLIENT_SECRET',
    };
  if (error === 'invalid_grant' && /invalid assertion/i.test(description)) {
    const cert = facts.certificate;
    const fix = !cert
      ? 'upload the certificate of this key to the app (Use digital signatures), or point SF_PRIVATE_KEY_PATH at ' +
        'the key of the certificate the app has'
      : cert.matchesKey
        ? `upload ${cert.path} to the app (Edit > Use digital signatures): the app holds another certificate`
        : `${cert.path} does not match the key either: run sfsync init for a new key and certificate, and upload that`;
    return {
      setting: 'SF_PRIVATE_KEY_PATH',
      detail: `${said}: the key does not match the certificate uploaded to the app`,
      fix,
    };
  }
  if (error === 'invalid_grant' && /audience/i.test(description))
    return {
      setting: 'SF_LOGIN_URL',
      detail: `${said}: ${at} is not a login host this org accepts as the JWT audience`,
      fix: `set SF_LOGIN_URL to ${LOGIN_HOSTS}`,
    };
  if (error === 'invalid_grant' && /expired authorization code/i.test(description))
    return {
      setting: 'system clock',
      detail: `${said}: the assertion's expiry is already past for Salesforce`,
      fix: "set this machine's clock right (NTP); sfsync signs assertions valid for 3 minutes",
    };
  if (error === 'invalid_grant' && /approved/i.test(description)) {
    // docs/salesforce.md#oauth-jwt-bearer-flow: Salesforce answers the same for an unknown username as for a user
    // the app is not pre-authorised for, so both are named; a username that cannot be one settles it.
    const user = facts.username ?? '';
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(user))
      return {
        setting: 'SF_USERNAME',
        detail: `${said}: '${user}' is not a Salesforce username (they look like email addresses)`,
        fix: "set SF_USERNAME to the integration user's username (Setup > Users)",
      };
    return {
      setting: "SF_USERNAME or the app's pre-authorised profiles",
      detail:
        `${said}: either ${user} is not a user of the org behind ${at} (SF_USERNAME wrong; a sandbox username ` +
        'ends in .<sandbox>), or the app is not approved for that user (not pre-authorised)',
      fix:
        'check SF_USERNAME in Setup > Users; in the app (Manage > Edit Policies) set Permitted Users to "Admin ' +
        'approved users are pre-authorized" and add the user\'s profile or permission set',
    };
  }
  if (error === 'invalid_grant' && /authentication failure/i.test(description) && facts.flow === 'password')
    return {
      setting: 'SF_PASSWORD',
      detail: `${said}: a wrong password, a missing security token, or the flow is blocked in this org`,
      fix: 'use the JWT bearer flow (SF_AUTH_FLOW=jwt, sfsync init); the username-password flow is blocked in new orgs',
    };
  if (error === 'invalid_grant' && facts.flow === 'refresh_token')
    return {
      setting: 'SF_REFRESH_TOKEN',
      detail: `${said}: the refresh token was revoked or has expired`,
      fix: 'authorise again for a new refresh token, or use the JWT bearer flow (sfsync init)',
    };
  return { setting: 'login', detail: said, fix: `see docs/salesforce.md (OAuth) for ${error}` };
}
