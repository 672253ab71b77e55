// A minimal OAuth 2.0 / SMART client for tests: a cookie jar, PKCE, and the authorization code flow
// driven through Helix's real HTML pages with plain HTTP requests (the browser test drives the same
// pages with Chromium).
import { createHash, randomBytes } from 'node:crypto';

/** Cookies by name (paths are ignored: every test cookie is for the same server). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** A PKCE verifier and its S256 challenge. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** GET or POST without following redirects, through the jar. */
export async function step(jar: CookieJar, url: string, form?: Record<string, string | string[]>): Promise<{ status: number; location?: string; text: string; res: Response }> {
  const body = form ? new URLSearchParams(Object.entries(form).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]))) : undefined;
  const res = await fetch(url, {
    method: form ? 'POST' : 'GET',
    redirect: 'manual',
    headers: { cookie: jar.header(), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    ...(body ? { body: body.toString() } : {}),
  });
  jar.store(res);
  const location = res.headers.get('location') ?? undefined;
  return { status: res.status, ...(location ? { location: new URL(location, url).toString() } : {}), text: await res.text(), res };
}

/** Follows redirects within `origin` until one leaves it (the redirect to the app) or a page is shown. */
export async function follow(jar: CookieJar, origin: string, first: { status: number; location?: string; text: string }) {
  let r = first;
  for (let i = 0; i < 10 && r.location && r.location.startsWith(origin); i++) r = await step(jar, r.location);
  return r;
}

/** What a test app asks for. */
export interface AuthorizeRequest {
  issuer: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  aud: string;
  state?: string;
  launch?: string;
  challenge?: string | null;
  method?: string;
}

/** The authorization URL for a request (challenge `null` omits PKCE). */
export function authorizeUrl(r: AuthorizeRequest): string {
  const q = new URLSearchParams({ response_type: 'code', client_id: r.clientId, redirect_uri: r.redirectUri, scope: r.scope, aud: r.aud, state: r.state ?? 'st-1' });
  if (r.launch) q.set('launch', r.launch);
  if (r.challenge !== null && r.challenge !== undefined) {
    q.set('code_challenge', r.challenge);
    q.set('code_challenge_method', r.method ?? 'S256');
  }
  return `${r.issuer}/authorize?${q}`;
}

/** The hidden/visible form fields' action URL of a page. */
export function formAction(html: string, origin: string, index = 0): string {
  const actions = [...html.matchAll(/<form method="post" action="([^"]+)"/g)].map((m) => m[1] as string);
  const action = actions[index];
  if (!action) throw new Error(`no form on page: ${html.slice(0, 300)}`);
  return new URL(action.replace(/&amp;/g, '&'), origin).toString();
}

/** The options of the patient picker. */
export function pickerOptions(html: string): string[] {
  return [...html.matchAll(/<option value="([^"]+)"/g)].map((m) => m[1] as string);
}

/**
 * Runs the whole code flow as a user: authorize → sign in (→ second factor) → consent (granting
 * `grant`, default all; choosing `patient`) → redirect with the code. Returns the redirect URL.
 */
export async function authorize(origin: string, r: AuthorizeRequest, user: { username: string; password: string; totp?: () => string }, choice: { grant?: string[]; patient?: string } = {}): Promise<URL> {
  const jar = new CookieJar();
  let page = await follow(jar, origin, await step(jar, authorizeUrl(r)));
  if (page.status === 200 && page.text.includes('name="password"')) {
    page = await step(jar, formAction(page.text, origin), { username: user.username, password: user.password });
    if (page.status === 200 && page.text.includes('name="ticket"')) {
      const ticket = /name="ticket" value="([^"]+)"/.exec(page.text)?.[1] as string;
      page = await step(jar, formAction(page.text, origin), { ticket, code: user.totp?.() ?? '' });
    }
    page = await follow(jar, origin, page);
  }
  if (page.status === 200 && page.text.includes('name="decision"')) {
    const form: Record<string, string | string[]> = { decision: 'allow', scope: choice.grant ?? r.scope.split(' ') };
    const patient = choice.patient ?? pickerOptions(page.text)[0];
    if (patient) form.patient = patient;
    page = await follow(jar, origin, await step(jar, formAction(page.text, origin), form));
  }
  if (!page.location) throw new Error(`flow stopped at ${page.status}: ${page.text.slice(0, 400)}`);
  return new URL(page.location);
}

/** POSTs a form to the token (or another) endpoint and returns status, JSON and headers. */
export async function tokenRequest(url: string, form: Record<string, string>, basic?: { id: string; secret: string }) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(basic ? { authorization: `Basic ${Buffer.from(`${encodeURIComponent(basic.id)}:${encodeURIComponent(basic.secret)}`).toString('base64')}` } : {}),
    },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}
