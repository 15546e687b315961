// What the authorization server can forget, and when: one-time records once they could no
// longer be accepted, codes and device codes a day after they expire (a code replayed late still
// revokes its grant until then), rotated refresh tokens 30 days after rotation (a reuse later
// than that is refused as unknown, without ending the grant), command-line sessions 30 days after
// their end. Grants themselves are kept: they are the patient's history.
import { deleteWhere, type SweepTask } from '../../core/store/sweeper.js';

export const oauthSweepTasks: readonly SweepTask[] = [
  deleteWhere('oauth_replay', 'oauth_replay', 'expires_at < now()'),
  deleteWhere('oauth_revoked_access_tokens', 'oauth_revoked_access_tokens', 'expires_at < now()'),
  deleteWhere('oauth_pushed_requests', 'oauth_pushed_requests', "expires_at < now() - interval '1 hour'"),
  deleteWhere('authorization_interactions', 'authorization_interactions', "expires_at < now() - interval '1 hour'"),
  deleteWhere('patient_launches', 'patient_launches', "expires_at < now() - interval '1 hour'"),
  deleteWhere('oauth_codes', 'oauth_codes', "expires_at < now() - interval '1 day'"),
  deleteWhere('device_authorizations', 'device_authorizations', "expires_at < now() - interval '1 day'"),
  deleteWhere('oauth_refresh_tokens', 'oauth_refresh_tokens', "rotated_at < now() - interval '30 days'"),
  deleteWhere('platform_refresh_tokens', 'platform_refresh_tokens', "rotated_at < now() - interval '30 days'"),
  deleteWhere('platform_sessions', 'platform_sessions', "expires_at < now() - interval '30 days'"),
];
