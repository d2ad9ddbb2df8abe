// A bank's OpenID provider for Strongroom's tests: the certified `oidc-provider`
// (pinned in package.json), configured the way a bank would run it for the
// desktop app (device flow + DPoP + refresh rotation), the gateway
// (introspection) and the staff console (authorization code + PKCE).
//
//   node bank-idp.mjs --cert CERT.pem --key KEY.pem --port 0 \
//     --resource https://127.0.0.1:PORT --access-token-format jwt|opaque \
//     --introspection-client-secret-file FILE \
//     --console-redirect-uri https://127.0.0.1:PORT/console/oidc/callback \
//     [--access-token-ttl 60]
//
// stdout carries exactly one line, {"issuer":"https://127.0.0.1:NNNN"}, once
// listening; everything else goes to stderr. SIGTERM/SIGINT exit cleanly.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import { parseArgs } from 'node:util';

// oidc-provider prints its notices with console.info, i.e. to stdout, and the
// tests read stdout for the issuer line: send all console output to stderr
// before the library is loaded (hence the dynamic import below).
console.log = console.info = console.debug = (...args) => console.error(...args);
const { default: Provider, errors } = await import('oidc-provider');

// ---------------------------------------------------------------- arguments

function usage(message) {
  console.error(`bank-idp: ${message}`);
  console.error('usage: node bank-idp.mjs --cert CERT.pem --key KEY.pem --port N'
    + ' --resource URL --access-token-format jwt|opaque'
    + ' --introspection-client-secret-file FILE --console-redirect-uri URL'
    + ' [--access-token-ttl SECONDS] [--device-code-ttl SECONDS]');
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      cert: { type: 'string' },
      key: { type: 'string' },
      port: { type: 'string' },
      resource: { type: 'string' },
      'access-token-format': { type: 'string' },
      'introspection-client-secret-file': { type: 'string' },
      'console-redirect-uri': { type: 'string' },
      'access-token-ttl': { type: 'string', default: '60' },
      'device-code-ttl': { type: 'string', default: '300' },
      'ssf-jwks-file': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  usage(err.message);
}
for (const name of ['cert', 'key', 'port', 'resource', 'access-token-format',
  'introspection-client-secret-file', 'console-redirect-uri']) {
  if (args[name] === undefined) usage(`--${name} is required`);
}

const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) usage('--port must be 0..65535');
const accessTokenFormat = args['access-token-format'];
if (!['jwt', 'opaque'].includes(accessTokenFormat)) usage('--access-token-format must be jwt or opaque');
const accessTokenTTL = Number(args['access-token-ttl']);
if (!Number.isInteger(accessTokenTTL) || accessTokenTTL <= 0) usage('--access-token-ttl must be a positive integer');
// A short device code life lets a test see a link code expire.
const deviceCodeTTL = Number(args['device-code-ttl']);
if (!Number.isInteger(deviceCodeTTL) || deviceCodeTTL <= 0) usage('--device-code-ttl must be a positive integer');
// The resource indicator is compared as the exact string the tests pass
// (no trailing slash added), and it is also the access tokens' `aud`.
const resource = args.resource;
if (!URL.canParse(resource) || new URL(resource).protocol !== 'https:') usage('--resource must be an https URL');
const consoleRedirectUri = args['console-redirect-uri'];
if (!URL.canParse(consoleRedirectUri)) usage('--console-redirect-uri must be a URL');
// The console's sign-out lands on its /console page, on the redirect URI's origin.
const consolePostLogoutUri = `${new URL(consoleRedirectUri).origin}/console`;
const clientSecret = fs.readFileSync(args['introspection-client-secret-file'], 'utf8').trim();
if (!clientSecret) usage('the client secret file is empty');
const tls = { cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key) };

// ----------------------------------------------------------------- accounts

// Fixed test people. The account id is the `sub` the gateway will see.
const ACCOUNTS = [
  { username: 'alice', password: 'alice-pass-1', sub: 'idp-alice', name: 'Alice', groups: [] },
  { username: 'bob', password: 'bob-pass-1', sub: 'idp-bob', name: 'Bob', groups: [] },
  { username: 'sam', password: 'sam-pass-1', sub: 'idp-sam', name: 'Sam', groups: ['strongroom-staff'] },
  { username: 'ada', password: 'ada-pass-1', sub: 'idp-ada', name: 'Ada', groups: ['strongroom-staff', 'strongroom-admin'] },
  // Works at the bank but is not in the staff group: the console must refuse her.
  { username: 'una', password: 'una-pass-1', sub: 'idp-una', name: 'Una', groups: [] },
];

function checkPassword(username, password) {
  const account = ACCOUNTS.find((a) => a.username === username);
  // Compare digests so the comparison has a fixed length and takes fixed time.
  const digest = (s) => crypto.createHash('sha256').update(String(s)).digest();
  const ok = crypto.timingSafeEqual(digest(account?.password ?? ''), digest(password));
  return account && ok ? account : undefined;
}

async function findAccount(_ctx, sub) {
  const account = ACCOUNTS.find((a) => a.sub === sub);
  if (!account) return undefined;
  return {
    accountId: account.sub,
    // oidc-provider releases only the claims of the granted scopes
    // (openid -> sub, groups -> groups); `name` is in no scope.
    async claims() {
      return { sub: account.sub, name: account.name, groups: [...account.groups] };
    },
  };
}

// -------------------------------------------------------------------- pages

const esc = (value) => String(value ?? '')
  .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  .replace(/"/g, '&quot;').replace(/'/g, '&#39;');

// Plain server-rendered pages: no script, no external resource, so a browser
// under WebDriver never reaches outside 127.0.0.1. `body` is trusted HTML
// built here (every interpolated value goes through esc) or handed over by
// oidc-provider (its forms, which it escapes itself).
function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${esc(title)} - Bank sign-in</title>
<style>body{font-family:sans-serif;max-width:28em;margin:2em auto}label,input,button{display:block;margin:.4em 0}.error{color:#b00}</style>
</head>
<body>
<h1>${esc(title)}</h1>
${body}
</body>
</html>`;
}

// Device flow pages (RFC 8628). oidc-provider builds the forms (with its own
// CSRF field `xsrf`); these wrap them and add buttons with stable ids.
async function userCodeInputSource(ctx, form, _out, err) {
  let message = '<p id="prompt">Enter the code displayed on your device.</p>';
  if (err && (err.userCode || err.name === 'NoCodeError')) {
    message = '<p id="error" class="error">The code you entered is incorrect. Try again.</p>';
  } else if (err && err.name === 'AbortedError') {
    message = '<p id="error" class="error">The sign-in request was interrupted.</p>';
  } else if (err) {
    message = '<p id="error" class="error">There was an error processing your request.</p>';
  }
  ctx.type = 'html';
  ctx.body = page('Connect a device', `${message}
${form}
<button type="submit" form="op.deviceInputForm" id="device-continue">Continue</button>`);
}

async function userCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
  ctx.type = 'html';
  ctx.body = page('Confirm device', `<p><strong id="client-name">${esc(client.clientName || client.clientId)}</strong>
asks to sign in. Check that your device shows this code:</p>
<p><code id="user-code">${esc(userCode)}</code></p>
<p>If you did not start this, or the code differs, abort.</p>
${form}
<button type="submit" form="op.deviceConfirmForm" id="device-confirm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes" id="device-abort">Abort</button>`);
}

async function successSource(ctx) {
  ctx.type = 'html';
  ctx.body = page('Device connected', `<p id="device-success">Your device is signed in${ctx.oidc.client?.clientName ? ` to ${esc(ctx.oidc.client.clientName)}` : ''}. You can close this page.</p>`);
}

async function logoutSource(ctx, form) {
  ctx.type = 'html';
  ctx.body = page('Sign out', `<p>Do you want to sign out of the bank?</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" id="logout-yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm" id="logout-no">No, stay signed in</button>`);
}

async function postLogoutSuccessSource(ctx) {
  ctx.type = 'html';
  ctx.body = page('Signed out', '<p id="logout-success">You are signed out.</p>');
}

async function renderError(ctx, out) {
  ctx.type = 'html';
  ctx.body = page('Something went wrong', `<p id="error" class="error"><strong id="error-code">${esc(out.error)}</strong>: <span id="error-description">${esc(out.error_description)}</span></p>`);
}

function loginPage(uid, client, error, username = '') {
  return page('Sign in', `<p>Sign in to continue to <strong id="client-name">${esc(client?.clientName || client?.clientId)}</strong>.</p>
${error ? `<p id="error" class="error">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}" autocomplete="off">
<label for="username">Username</label>
<input id="username" name="username" type="text" value="${esc(username)}" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password">
<button type="submit" id="sign-in">Sign in</button>
</form>`);
}

function consentPage(uid, client, details, params) {
  // alerts and chat are both OIDC scopes (listed in `scopes`) and the
  // resource's scopes: list each scope once, with where it applies.
  const resourceScopes = Object.entries(details.missingResourceScopes ?? {})
    .flatMap(([indicator, scopes]) => scopes.map((scope) => ({ scope, indicator })));
  const atResource = new Set(resourceScopes.map(({ scope }) => scope));
  const items = [];
  for (const scope of details.missingOIDCScope ?? []) {
    if (!atResource.has(scope)) items.push(`<li class="scope" data-scope="${esc(scope)}">${esc(scope)}</li>`);
  }
  for (const { scope, indicator } of resourceScopes) {
    items.push(`<li class="scope" data-scope="${esc(scope)}" data-resource="${esc(indicator)}">${esc(scope)} (at ${esc(indicator)})</li>`);
  }
  for (const claim of details.missingOIDCClaims ?? []) {
    items.push(`<li class="claim" data-claim="${esc(claim)}">claim: ${esc(claim)}</li>`);
  }
  if (!items.length) {
    // Nothing new (a native client asks every time): show what it asks for.
    for (const scope of String(params.scope ?? '').split(' ').filter(Boolean)) {
      items.push(`<li class="scope" data-scope="${esc(scope)}">${esc(scope)}</li>`);
    }
  }
  return page('Allow access', `<p><strong id="client-name">${esc(client?.clientName || client?.clientId)}</strong> asks for:</p>
<ul id="scopes">
${items.join('\n')}
</ul>
<form method="post" action="/interaction/${esc(uid)}">
<button type="submit" name="decision" value="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form>`);
}

// ------------------------------------------------------------------- server

// Listen first: the issuer must name the port, and port 0 picks one.
let handle = (_req, res) => { res.statusCode = 503; res.end(); };
const server = https.createServer(tls, (req, res) => handle(req, res));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
const issuer = `https://127.0.0.1:${server.address().port}`;

// Signing keys, new at every start: ES256 signs ID tokens and JWT access
// tokens; an RS256 key is published as well (for verifiers that want RSA).
function signingKey(type, options, alg) {
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${crypto.randomBytes(6).toString('hex')}` };
}
const jwks = {
  keys: [
    signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
    signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
  ],
};

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const provider = new Provider(issuer, {
  jwks,
  findAccount,
  clients: [
    {
      // The desktop app: public, device flow, DPoP-bound tokens only.
      // Native: oidc-provider then asks the person's consent at every
      // sign-in, even when an earlier grant covers the scopes.
      client_id: 'strongroom-desktop',
      client_name: 'Strongroom',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
      response_types: [],
      redirect_uris: [],
      dpop_bound_access_tokens: true,
      scope: 'openid offline_access alerts chat',
    },
    {
      // The gateway: only introspects.
      client_id: 'strongroom-gateway',
      client_name: 'Strongroom gateway',
      client_secret: clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
    {
      // The staff console: authorization code + PKCE (S256), groups claim.
      client_id: 'strongroom-console',
      client_name: 'Strongroom console',
      client_secret: clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [consoleRedirectUri],
      post_logout_redirect_uris: [consolePostLogoutUri],
      scope: 'openid groups',
    },
  ],
  clientDefaults: {
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
  },
  // Authorization code only at the authorization endpoint (no implicit or
  // hybrid flows), as OAuth 2.1 and FAPI 2.0 have it.
  responseTypes: ['code'],
  scopes: ['openid', 'offline_access', 'alerts', 'chat'],
  claims: {
    openid: ['sub'],
    groups: ['groups'],
  },
  // Put the granted scopes' claims (groups) in the ID token too, not only at
  // userinfo, so the console can read them from the ID token.
  conformIdTokenClaims: false,
  pkce: {
    // Every client using the authorization endpoint (the console) must send
    // S256 PKCE; oidc-provider accepts no other method.
    required: () => true,
  },
  cookies: {
    // Random at every start; cookies are marked Secure by oidc-provider
    // because the connection is TLS.
    keys: [crypto.randomBytes(32).toString('base64url')],
  },
  interactions: {
    url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  features: {
    devInteractions: { enabled: false },
    deviceFlow: {
      enabled: true,
      userCodeInputSource,
      userCodeConfirmSource,
      successSource,
    },
    dPoP: {
      enabled: true,
      // With a secret the server hands out DPoP-Nonce values; requireNonce
      // makes every proof carry one (first attempt -> use_dpop_nonce).
      nonceSecret: crypto.randomBytes(32),
      requireNonce: () => true,
    },
    revocation: {
      enabled: true,
      // A client revokes only its own tokens (the desktop app, a public
      // client, signs out by revoking its refresh token; that ends the grant).
      allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
    },
    introspection: {
      enabled: true,
      // The gateway may introspect the access tokens meant for it (aud = the
      // resource), whoever they were issued to; another confidential client
      // only its own tokens; a public client nothing. Refused -> active:false.
      allowedPolicy: async (_ctx, client, token) => {
        if (client.clientId === 'strongroom-gateway') {
          return token.kind === 'AccessToken' && token.aud === resource;
        }
        return client.clientAuthMethod !== 'none' && token.clientId === client.clientId;
      },
    },
    resourceIndicators: {
      enabled: true,
      // The desktop app's tokens are always for the gateway; the console's
      // are not (it uses its access token at userinfo).
      defaultResource: async (_ctx, client, oneOf) => {
        if (oneOf) return oneOf.includes(resource) ? resource : oneOf[0];
        return client.clientId === 'strongroom-desktop' ? resource : undefined;
      },
      // A refresh or device-code grant without resource= stays on the
      // granted resource (instead of an openid-only userinfo token).
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (indicator !== resource) throw new errors.InvalidTarget();
        return {
          scope: 'alerts chat',
          audience: resource,
          accessTokenTTL,
          accessTokenFormat,
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource,
      postLogoutSuccessSource,
    },
    userinfo: { enabled: true },
  },
  renderError,
  // Rotate on every use; a rotated (consumed) token presented again is
  // refused with invalid_grant and revokes the whole grant.
  rotateRefreshToken: true,
  ttl: {
    AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? accessTokenTTL,
    AuthorizationCode: 60,
    DeviceCode: deviceCodeTTL,
    RefreshToken: 24 * 60 * 60,
    IdToken: 60 * 60,
    Interaction: 10 * 60,
    Session: 24 * 60 * 60,
    Grant: 24 * 60 * 60,
  },
});

provider.on('server_error', (_ctx, err) => console.error('bank-idp server_error:', err));
// The answers hide why a grant failed ("grant request is invalid"); say it on
// stderr so a failing test's log shows the cause (e.g. "refresh token already used").
for (const event of ['grant.error', 'authorization.error', 'device_authorization.error',
  'code_verification.error', 'device_resume.error', 'introspection.error',
  'revocation.error', 'userinfo.error', 'end_session.error']) {
  provider.on(event, (_ctx, err) => {
    console.error(`bank-idp ${event}: ${err.error ?? err.name}: ${err.error_detail ?? err.error_description ?? err.message}`);
  });
}

// -------------------------------------------------------- interaction pages

async function readForm(req) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sendHtml(res, status, html) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  // Our pages need no script at all; other pages keep oidc-provider's defaults.
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  res.setHeader('X-Frame-Options', 'DENY');
  res.end(html);
}

async function interaction(req, res, uid) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    if (err instanceof errors.SessionNotFound) {
      return sendHtml(res, 400, page('Sign-in expired', '<p id="error" class="error">This sign-in request is no longer valid. Start again from the application.</p>'));
    }
    throw err;
  }
  // The cookie names the interaction in progress; a stale URL must not act on it.
  if (details.uid !== uid) {
    return sendHtml(res, 400, page('Sign-in expired', '<p id="error" class="error">This sign-in page is out of date. Start again from the application.</p>'));
  }
  const { prompt, params } = details;
  const client = await provider.Client.find(params.client_id);

  if (req.method === 'GET') {
    if (prompt.name === 'login') return sendHtml(res, 200, loginPage(uid, client));
    if (prompt.name === 'consent') return sendHtml(res, 200, consentPage(uid, client, prompt.details, params));
    return sendHtml(res, 400, page('Unsupported', `<p id="error" class="error">Unsupported prompt ${esc(prompt.name)}.</p>`));
  }
  if (req.method !== 'POST') {
    res.statusCode = 405;
    res.setHeader('Allow', 'GET, POST');
    return res.end();
  }

  const form = await readForm(req);
  if (prompt.name === 'login') {
    const username = form.get('username') ?? '';
    const account = checkPassword(username, form.get('password') ?? '');
    if (!account) {
      return sendHtml(res, 200, loginPage(uid, client, 'Wrong username or password.', username));
    }
    return provider.interactionFinished(req, res, {
      login: { accountId: account.sub },
    }, { mergeWithLastSubmission: false });
  }

  if (prompt.name === 'consent') {
    if (form.get('decision') !== 'allow') {
      return provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'End-User denied the request',
      }, { mergeWithLastSubmission: false });
    }
    // Grant exactly what is missing: OIDC scopes and claims, and the
    // resource indicator's scopes (alerts chat at the gateway).
    const { details: missing } = prompt;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, {
      consent: details.grantId ? {} : { grantId },
    }, { mergeWithLastSubmission: true });
  }

  return sendHtml(res, 400, page('Unsupported', `<p id="error" class="error">Unsupported prompt ${esc(prompt.name)}.</p>`));
}

const providerCallback = provider.callback();
const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]+)$/;

// The bank's Shared Signals transmitter (SSF 1.0) as a receiver sees it:
// its configuration and the public keys its SETs are signed with. The test
// holds the private key and signs the SETs itself, so that it can also
// sign forged ones; this server only publishes, as a bank's would.
const ssfJwks = args['ssf-jwks-file'] ? fs.readFileSync(args['ssf-jwks-file'], 'utf8') : null;
function ssf(pathname, res) {
  if (!ssfJwks) return false;
  const json = (body) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(body);
  };
  if (pathname === '/.well-known/ssf-configuration') {
    json(JSON.stringify({
      spec_version: '1_0',
      issuer,
      jwks_uri: `${issuer}/ssf/jwks`,
      delivery_methods_supported: ['urn:ietf:rfc:8935'],
      default_subjects: 'ALL',
    }));
    return true;
  }
  if (pathname === '/ssf/jwks') {
    json(ssfJwks);
    return true;
  }
  return false;
}

handle = (req, res) => {
  const { pathname } = new URL(req.url, issuer);
  if (req.method === 'GET' && ssf(pathname, res)) return;
  const match = INTERACTION.exec(pathname);
  if (!match) return providerCallback(req, res);
  interaction(req, res, match[1]).catch((err) => {
    console.error('bank-idp interaction error:', err);
    if (!res.headersSent) sendHtml(res, 500, page('Something went wrong', '<p id="error" class="error">Internal error.</p>'));
    else res.destroy();
  });
};

// --------------------------------------------------------------- lifecycle

function shutdown(signal) {
  console.error(`bank-idp: ${signal}, closing`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
