// The HTML pages of the authorization server: login, second factor, consent with patient picker,
// and errors. Plain server-rendered HTML with labelled controls and no external assets, so they
// work with a screen reader, without JavaScript and on a closed network.

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.5}
label{display:block;margin-top:1rem;font-weight:600}input[type=text],input[type=password],select{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem;cursor:pointer}fieldset{margin-top:1rem}.error{color:#a40000;font-weight:600}
.scope{font-family:monospace}:focus{outline:3px solid #1d70b8;outline-offset:2px}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} – Helix</title><style>${STYLE}</style></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

const problem = (message?: string): string => (message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : '');

/** The sign-in form. */
export function loginPage(action: string, clientName: string, message?: string): string {
  return page('Sign in', `<p>Sign in to continue to <strong>${escapeHtml(clientName)}</strong>.</p>${problem(message)}
<form method="post" action="${escapeHtml(action)}">
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>`);
}

/** The second-factor form (a TOTP code or a recovery code). */
export function mfaPage(action: string, ticket: string, message?: string): string {
  return page('Verification code', `${problem(message)}<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="ticket" value="${escapeHtml(ticket)}">
<label for="code">Code from your authenticator app, or a recovery code</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus>
<button type="submit">Verify</button></form>`);
}

/** A patient the user may pick in a standalone launch. */
export interface PatientChoice {
  id: string;
  label: string;
}

/** The consent form: one checkbox per requested scope, and a patient picker when the app needs one. */
export function consentPage(opts: {
  action: string; abortAction: string; clientName: string; scopes: { scope: string; description: string }[];
  patients?: PatientChoice[]; fixedPatient?: PatientChoice; message?: string;
}): string {
  const scopes = opts.scopes.map((s, i) => `<div><input type="checkbox" id="scope${i}" name="scope" value="${escapeHtml(s.scope)}" checked>
<label for="scope${i}" style="display:inline;font-weight:normal"><span class="scope">${escapeHtml(s.scope)}</span> – ${escapeHtml(s.description)}</label></div>`).join('\n');
  let picker = '';
  if (opts.fixedPatient) {
    picker = `<p>Patient: <strong>${escapeHtml(opts.fixedPatient.label)}</strong></p>`;
  } else if (opts.patients) {
    picker = opts.patients.length
      ? `<label for="patient">Patient</label><select id="patient" name="patient" required>${opts.patients.map((p) => `<option value="${escapeHtml(p.id)}">${escapeHtml(p.label)}</option>`).join('')}</select>`
      : '<p class="error" role="alert">There is no patient you can choose.</p>';
  }
  return page('Allow access?', `<p><strong>${escapeHtml(opts.clientName)}</strong> asks for access to your health records.</p>${problem(opts.message)}
<form method="post" action="${escapeHtml(opts.action)}">${picker}
<fieldset><legend>Permissions (uncheck any you do not want to grant)</legend>${scopes}</fieldset>
<button type="submit" name="decision" value="allow">Allow</button></form>
<form method="post" action="${escapeHtml(opts.abortAction)}"><button type="submit">Deny</button></form>`);
}

/** An error page; never a redirect, so an unverified redirect_uri learns nothing. */
export function errorPage(error: string, description: string): string {
  return page('Authorization failed', `<p class="error" role="alert">${escapeHtml(error)}</p><p>${escapeHtml(description)}</p>`);
}

/** A plain-language description of a scope for the consent page. */
export function describeScope(scope: string): string {
  const fixed: Record<string, string> = {
    openid: 'confirm who you are', fhirUser: 'know which person record is yours', profile: 'see your user name',
    email: 'see your email address', offline_access: 'keep access after you close the app', online_access: 'keep access while you are signed in',
    launch: 'open in the context of your EHR session', 'launch/patient': 'know which patient is selected', 'launch/encounter': 'know which encounter is selected',
  };
  if (fixed[scope]) return fixed[scope];
  const m = /^(patient|user|system)\/([^.]+)\.([a-z*]+)/.exec(scope);
  if (!m) return 'access requested by the app';
  const [, context, type, action = ''] = m;
  const verbs: Record<string, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };
  const letters = action === 'read' ? 'rs' : action === 'write' ? 'cud' : action === '*' ? 'cruds' : action;
  const what = type === '*' ? 'all records' : `${type} records`;
  const whose = context === 'patient' ? 'of the selected patient' : context === 'user' ? 'you can see' : 'of every patient';
  return `${letters.split('').map((l) => verbs[l] ?? l).join(', ')} ${what} ${whose}${scope.includes('?') ? ' (only those matching the filter)' : ''}`;
}

/** Step 1 of TOTP enrolment: confirm who you are. */
export function enrolLoginPage(action: string, message?: string): string {
  return page('Set up two-step verification', `<p>Sign in to add an authenticator app to your account.</p>${problem(message)}
<form method="post" action="${escapeHtml(action)}">
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Continue</button></form>`);
}

/** Step 2: scan the QR code and confirm with a first code. */
export function enrolQrPage(action: string, ticket: string, qrSvg: string, secret: string, message?: string): string {
  return page('Scan this code', `${problem(message)}<p>Scan the code with your authenticator app, or enter the key by hand.</p>
<figure role="img" aria-label="QR code of the authenticator key">${qrSvg}</figure>
<p>Key: <code>${escapeHtml(secret)}</code></p>
<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="ticket" value="${escapeHtml(ticket)}">
<label for="code">The 6-digit code the app shows</label><input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required>
<button type="submit">Confirm</button></form>`);
}

/** Step 3: the recovery codes, shown once. */
export function recoveryCodesPage(codes: string[]): string {
  return page('Two-step verification is on', `<p>Keep these recovery codes somewhere safe. Each works once if you lose your authenticator; they will not be shown again.</p>
<ul>${codes.map((c) => `<li><code>${escapeHtml(c)}</code></li>`).join('')}</ul>`);
}
