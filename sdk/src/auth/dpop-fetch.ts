// Sender-constrained requests (RFC 9449): a `fetch` that signs every attempt with the session's
// DPoP key (a fresh proof with `ath`, and the server's nonce), answers a `use_dpop_nonce` by
// signing again, and a refused token by refreshing once. The transport's retries and timeouts
// wrap it, so each retry gets its own proof.
import * as oauth from 'oauth4webapi';
import type { FetchLike } from '../internal/transport.js';
import { forgetUnlessReversible, grantEnded, type Session, type StoredSession } from './session.js';

/** The parameters of the first challenge of a WWW-Authenticate error. */
function challengeOf(error: oauth.WWWAuthenticateChallengeError): Record<string, string | undefined> {
  return (error.cause[0]?.parameters ?? {}) as Record<string, string | undefined>;
}

export function dpopFetch(session: Session, audience: StoredSession['audience'], baseFetch: FetchLike): FetchLike {
  return async (input, init) => {
    // The transport (ky) calls with a Request; fetchWithCredentials' callers often with a URL
    // string and a string body, read as they are without copying them into a Request.
    const request = typeof input === 'string' && (init?.body === undefined || typeof init.body === 'string') ? undefined : new Request(input, init);
    const url = new URL(request?.url ?? (input as string));
    const method = request?.method ?? init?.method ?? 'GET';
    const body = request ? (request.body ? await request.arrayBuffer() : null) : ((init?.body as string | undefined) ?? null);
    const signal = request?.signal ?? init?.signal ?? undefined;
    const send = async (rejected?: string) => {
      const { accessToken, dpop } = await session.token(audience, rejected);
      const headers = new Headers(request?.headers ?? init?.headers);
      headers.delete('authorization');
      const response = oauth.protectedResourceRequest(accessToken, method, url, headers, body, {
        DPoP: dpop,
        ...(signal ? { signal } : {}),
        [oauth.customFetch]: baseFetch as never,
        [oauth.allowInsecureRequests]: url.protocol === 'http:',
      });
      return { accessToken, response };
    };
    let attempt = await send();
    let refreshed = false;
    let nonceRetried = false;
    for (;;) {
      try {
        return await attempt.response;
      } catch (error) {
        if (!(error instanceof oauth.WWWAuthenticateChallengeError)) throw error;
        const challenge = challengeOf(error);
        if (oauth.isDPoPNonceError(error) && !nonceRetried) {
          nonceRetried = true;
          attempt = await send();
          continue;
        }
        if (challenge.error !== 'invalid_token') return error.response;
        // The grant is gone (or the app cut off): no refresh can help.
        if (challenge.grant_ended) {
          await error.response.body?.cancel();
          throw await forgetUnlessReversible(session, grantEnded(challenge.grant_ended, 'grant_revoked'));
        }
        if (refreshed) return error.response;
        // Expired early, or cut off by the server: one refresh, then the same request again.
        refreshed = true;
        nonceRetried = false;
        await error.response.body?.cancel();
        attempt = await send(attempt.accessToken);
      }
    }
  };
}
