// Errors of the authorization server's endpoints, answered as RFC 6749 error JSON (not as
// problem documents): what OAuth clients such as oauth4webapi expect. When a grant has ended, the
// JSON also says why (`grant_ended`, an extension member RFC 6749 §5.2 leaves room for).
import type { components } from '@mes/openapi';

type GrantEnded = components['schemas']['GrantEnded'];

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'invalid_request_uri'
  | 'temporarily_unavailable'
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  | 'server_error';

export class OAuthError extends Error {
  override name = 'OAuthError';

  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status = error === 'invalid_client' ? 401 : error === 'server_error' ? 500 : 400,
    readonly headers: Record<string, string> = {},
    /** Why the grant behind the code or refresh token ended, when that is why the request is refused. */
    readonly grantEnded?: GrantEnded,
  ) {
    super(description);
  }

  toJSON(): { error: string; error_description: string; grant_ended?: GrantEnded } {
    return { error: this.error, error_description: this.description, ...(this.grantEnded ? { grant_ended: this.grantEnded } : {}) };
  }
}
