// The bank's Shared Signals receiver for push delivery (RFC 8935), for the
// gateway's tests: it checks every Security Event Token the gateway pushes
// with panva's `jose` (not the gateway's own code) against the keys the
// gateway's SSF configuration names, and prints each accepted SET's claims
// as one JSON line on stdout.
//
//   NODE_EXTRA_CA_CERTS=GATEWAY_CA.pem node bank-ssf-receiver.mjs \
//     --cert CERT.pem --key KEY.pem --port 0 --transmitter https://127.0.0.1:N \
//     --audience NAME --token SECRET
//
// First line on stdout: {"url":"https://127.0.0.1:PORT/events"}. Then one
// line per accepted SET: {"jti","sub_id","events"}. Refusals (answered 400
// with an RFC 8935 error, or 401 without the bearer token) go to stderr.
import fs from 'node:fs';
import https from 'node:https';
import { parseArgs } from 'node:util';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const { values: args } = parseArgs({
  options: {
    cert: { type: 'string' },
    key: { type: 'string' },
    port: { type: 'string', default: '0' },
    transmitter: { type: 'string' },
    audience: { type: 'string' },
    token: { type: 'string' },
  },
});

const configuration = await (
  await fetch(`${args.transmitter}/.well-known/ssf-configuration`)
).json();
if (configuration.issuer !== args.transmitter) {
  throw new Error(`the configuration names issuer ${configuration.issuer}`);
}
const keys = createRemoteJWKSet(new URL(configuration.jwks_uri));

function answer(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

const server = https.createServer(
  { cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key) },
  (req, res) => {
    if (req.method !== 'POST' || req.url !== '/events') return answer(res, 404);
    if (req.headers.authorization !== `Bearer ${args.token}`) {
      console.error('refused: no or a wrong bearer token');
      return answer(res, 401);
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const set = Buffer.concat(chunks).toString('utf8');
      try {
        if (req.headers['content-type'] !== 'application/secevent+jwt') {
          throw new Error(`content-type ${req.headers['content-type']}`);
        }
        const { payload } = await jwtVerify(set, keys, {
          issuer: args.transmitter,
          audience: args.audience,
          typ: 'secevent+jwt',
          algorithms: ['ES256'],
        });
        process.stdout.write(
          `${JSON.stringify({ jti: payload.jti, sub_id: payload.sub_id, events: payload.events })}\n`,
        );
        answer(res, 202);
      } catch (e) {
        console.error(`refused: ${e.message}`);
        answer(res, 400, { err: 'invalid_request', description: e.message });
      }
    });
  },
);
server.listen(Number(args.port), '127.0.0.1', () => {
  process.stdout.write(
    `${JSON.stringify({ url: `https://127.0.0.1:${server.address().port}/events` })}\n`,
  );
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
