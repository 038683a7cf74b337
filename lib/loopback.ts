// Addresses on this machine (the local emulator): the only ones that may use plain http.

/** Loopback hosts as URL.hostname spells them (an IPv6 host in brackets), and the bare IPv6 form. */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

/** https, or http on a loopback address: null when `url` may be used, else the problem, naming the setting. */
export function httpsUnlessLoopback(url: URL, setting: string): string | null {
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url))) return null;
  return `${setting} must use https (got ${url.protocol}//${url.host}); only loopback addresses may use http`;
}
