// A command-line tool signed in with the device flow (RFC 8628): it shows a code, the person
// approves it in a browser, and the tool gets a platform token (DPoP-bound, short-lived) without
// ever seeing a password or an API key. Then it lists the publisher's apps with that token.
import { createPublisherClient, OAuthError } from '@mes/sdk/publisher';

const baseUrl = process.env.MES_API_URL ?? 'http://localhost:4010';
// `mes-cli` is the platform's own command-line client: the only one allowed the device flow.
const mes = createPublisherClient({ baseUrl, clientId: 'mes-cli' });

// Ctrl-C stops the polling cleanly.
const stop = new AbortController();
process.once('SIGINT', () => stop.abort(new Error('Interrupted.')));

try {
  const device = await mes.deviceAuthorization({ scope: 'platform/apps.read', signal: stop.signal });
  console.log(`To sign in, open ${device.verificationUri} and enter the code ${device.userCode}`);
  if (device.verificationUriComplete) console.log(`(or open ${device.verificationUriComplete})`);
  console.log(`The code expires at ${device.expiresAt.toLocaleTimeString()}. Waiting for approval…`);
  // Polls at the interval the server asks for, and slows down when it says so.
  const signedIn = await device.wait({ signal: stop.signal });
  console.log(`Signed in (${signedIn.scopes.join(' ')}).`);

  // No apiKey given: the publisher API is called with the device flow's platform token.
  console.log('Your apps:');
  for await (const app of mes.apps.list()) console.log(`  ${app.name}  [${app.certificationStatus}]  ${app.id}`);
} catch (error) {
  if (error instanceof OAuthError && error.error === 'access_denied') console.error('Sign-in refused.');
  else if (error instanceof OAuthError && error.error === 'expired_token') console.error('The code expired before it was approved: run the command again.');
  else console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
