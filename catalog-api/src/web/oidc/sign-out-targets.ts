// The origins a patient page's forms may lead to besides the platform, for the sign-out form in
// every page's header: signing out at the identity provider redirects the browser there, and CSP
// form-action applies to the redirects that follow a form post.
import type { AppConfig } from '../../core/config.js';

/** The identity provider's origin when one is configured; nothing otherwise (the sandbox picker, no provider). */
export function signOutFormTargets(config: Pick<AppConfig, 'patientIdentityProvider'>): string[] {
  const issuer = config.patientIdentityProvider?.issuer;
  return issuer ? [new URL(issuer).origin] : [];
}
