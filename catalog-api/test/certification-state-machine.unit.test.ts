// The certification state machine against an expected table written out here from the design
// brief (not read from the module), checked for every (state, event) pair; then the approval guard,
// reviewer conflicts and the app-level status rule, with the negative cases each rule exists for.
import { describe, expect, it } from 'vitest';
import {
  allowedEvents,
  appStatus,
  approvalDecision,
  canTransition,
  certificationEvents,
  certificationStates,
  IllegalTransitionError,
  isCertificationEvent,
  isCertificationState,
  liveCertificateStates,
  reviewerConflict,
  terminalStates,
  transition,
  transitions,
  type CertificationEvent,
  type CertificationState,
} from '../src/modules/certification/state-machine.js';

const states = [
  'draft',
  'submitted',
  'in_review',
  'changes_requested',
  'approved',
  'rejected',
  'certified',
  'suspended',
  'revoked',
  'expired',
  'superseded',
] as const;

const events = [
  'submit',
  'start_review',
  'request_changes',
  'resubmit',
  'approve',
  'reject',
  'certify',
  'suspend',
  'reinstate',
  'revoke',
  'expire',
  'supersede',
] as const;

// The brief, one line per transition.
const expected: ReadonlyArray<readonly [CertificationState, CertificationEvent, CertificationState]> = [
  ['draft', 'submit', 'submitted'],
  ['submitted', 'start_review', 'in_review'],
  ['in_review', 'request_changes', 'changes_requested'],
  ['changes_requested', 'resubmit', 'in_review'],
  ['in_review', 'approve', 'approved'],
  ['in_review', 'reject', 'rejected'],
  ['approved', 'certify', 'certified'],
  ['certified', 'suspend', 'suspended'],
  ['suspended', 'reinstate', 'certified'],
  ['certified', 'revoke', 'revoked'],
  ['suspended', 'revoke', 'revoked'],
  ['certified', 'expire', 'expired'],
  ['suspended', 'expire', 'expired'],
  ['certified', 'supersede', 'superseded'],
  ['suspended', 'supersede', 'superseded'],
];

const expectedNext = (from: CertificationState, event: CertificationEvent): CertificationState | undefined =>
  expected.find(([f, e]) => f === from && e === event)?.[2];

// Allowed events per state, in the order `certificationEvents` lists them.
const expectedAllowed: Record<CertificationState, CertificationEvent[]> = {
  draft: ['submit'],
  submitted: ['start_review'],
  in_review: ['request_changes', 'approve', 'reject'],
  changes_requested: ['resubmit'],
  approved: ['certify'],
  rejected: [],
  certified: ['suspend', 'revoke', 'expire', 'supersede'],
  suspended: ['reinstate', 'revoke', 'expire', 'supersede'],
  revoked: [],
  expired: [],
  superseded: [],
};

const pairs = states.flatMap((from) => events.map((event) => [from, event] as const));

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('states and events', () => {
  it('lists the eleven states and twelve events of the brief, in order', () => {
    expect(certificationStates).toEqual(states);
    expect(certificationEvents).toEqual(events);
    expect(pairs).toHaveLength(11 * 12);
  });

  it('has the four terminal states and the two live certificate states', () => {
    expect([...terminalStates].sort()).toEqual(['expired', 'rejected', 'revoked', 'superseded']);
    expect(liveCertificateStates).toEqual(['certified', 'suspended']);
  });

  it('recognises names and nothing else, not even names found on Object.prototype', () => {
    for (const state of states) expect(isCertificationState(state)).toBe(true);
    for (const event of events) expect(isCertificationEvent(event)).toBe(true);
    for (const value of ['', 'Draft', 'certify', 'constructor', 'toString', '__proto__', null, undefined, 1]) {
      expect(isCertificationState(value)).toBe(false);
    }
    for (const value of ['', 'Submit', 'draft', 'constructor', 'hasOwnProperty', null]) expect(isCertificationEvent(value)).toBe(false);
  });
});

describe('transition, for every (state, event) pair', () => {
  it.each(pairs)('%s + %s', (from, event) => {
    const next = expectedNext(from, event);
    if (next !== undefined) {
      expect(transition(from, event)).toBe(next);
      expect(canTransition(from, event)).toBe(true);
      return;
    }
    expect(canTransition(from, event)).toBe(false);
    const error = thrown(() => transition(from, event));
    expect(error).toBeInstanceOf(IllegalTransitionError);
    expect(error).toBeInstanceOf(Error);
    const illegal = error as IllegalTransitionError;
    expect(illegal.name).toBe('IllegalTransitionError');
    expect(illegal.from).toBe(from);
    expect(illegal.event).toBe(event);
    expect(illegal.allowed).toEqual(expectedAllowed[from]);
    expect(illegal.message).toContain(`that is ${from} cannot be `);
    expect(illegal.message).toMatch(new RegExp(`; allowed: ${expectedAllowed[from].length ? expectedAllowed[from].join(', ') : 'none'}$`));
  });

  it('the expected table and the allowed lists written above agree (a check on the test itself)', () => {
    for (const state of states) {
      expect(events.filter((event) => expectedNext(state, event) !== undefined)).toEqual(expectedAllowed[state]);
    }
  });

  it('allowedEvents gives each state its events, in event order', () => {
    for (const state of states) expect(allowedEvents(state)).toEqual(expectedAllowed[state]);
  });

  it('the exported table holds exactly the expected transitions', () => {
    const flattened = Object.entries(transitions).flatMap(([from, row]) => Object.entries(row).map(([event, to]) => [from, event, to]));
    expect(flattened.sort()).toEqual(expected.map((row) => [...row]).sort());
  });

  it('says which record, what was refused, and what is allowed', () => {
    expect((thrown(() => transition('submitted', 'approve')) as Error).message).toBe(
      'a submission that is submitted cannot be approved; allowed: start_review',
    );
    expect((thrown(() => transition('revoked', 'reinstate')) as Error).message).toBe(
      'a certificate that is revoked cannot be reinstated; allowed: none',
    );
    expect((thrown(() => transition('in_review', 'certify')) as Error).message).toBe(
      'a submission that is in_review cannot be certified; allowed: request_changes, approve, reject',
    );
  });

  it('refuses what the workflow exists to prevent', () => {
    // Certifying without approval, approving without review, reviving an ended certificate.
    expect(() => transition('submitted', 'certify')).toThrow(IllegalTransitionError);
    expect(() => transition('in_review', 'certify')).toThrow(IllegalTransitionError);
    expect(() => transition('draft', 'approve')).toThrow(IllegalTransitionError);
    expect(() => transition('changes_requested', 'approve')).toThrow(IllegalTransitionError);
    expect(() => transition('revoked', 'reinstate')).toThrow(IllegalTransitionError);
    expect(() => transition('expired', 'reinstate')).toThrow(IllegalTransitionError);
    expect(() => transition('rejected', 'resubmit')).toThrow(IllegalTransitionError);
    expect(() => transition('certified', 'reinstate')).toThrow(IllegalTransitionError);
  });

  it('refuses unknown states and events with a RangeError, without consulting Object.prototype', () => {
    expect(() => transition('constructor' as CertificationState, 'submit')).toThrow(RangeError);
    expect(() => transition('draft', 'toString' as CertificationEvent)).toThrow(RangeError);
    expect(() => canTransition('draft', '__proto__' as CertificationEvent)).toThrow(RangeError);
    expect(() => allowedEvents('live' as CertificationState)).toThrow(RangeError);
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(transitions)).toBe(true);
    for (const state of states) expect(Object.isFrozen(transitions[state])).toBe(true);
    expect(() => {
      (transitions.draft as Record<string, string>).approve = 'certified';
    }).toThrow(TypeError);
    expect(() => {
      (allowedEvents('draft') as CertificationEvent[]).push('certify');
    }).toThrow(TypeError);
    expect(canTransition('draft', 'approve')).toBe(false);
  });
});

describe('terminal states and reachability', () => {
  it('terminal states accept no event; every other state accepts at least one', () => {
    for (const state of states) {
      const terminal = (terminalStates as readonly string[]).includes(state);
      expect(allowedEvents(state).length === 0, state).toBe(terminal);
      if (terminal) for (const event of events) expect(() => transition(state, event)).toThrow(IllegalTransitionError);
    }
  });

  it('every state is reachable from draft', () => {
    const seen = new Set<CertificationState>(['draft']);
    const queue: CertificationState[] = ['draft'];
    for (let state = queue.shift(); state !== undefined; state = queue.shift()) {
      for (const event of allowedEvents(state)) {
        const next = transition(state, event);
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }
    expect([...seen].sort()).toEqual([...states].sort());
  });

  it('a terminal state is reachable from every non-terminal state (no record can be stuck open)', () => {
    for (const start of states) {
      const seen = new Set<CertificationState>([start]);
      const queue: CertificationState[] = [start];
      for (let state = queue.shift(); state !== undefined; state = queue.shift()) {
        for (const event of allowedEvents(state)) {
          const next = transition(state, event);
          if (!seen.has(next)) {
            seen.add(next);
            queue.push(next);
          }
        }
      }
      expect(terminalStates.some((terminal) => seen.has(terminal)), start).toBe(true);
    }
  });

  it('walks the happy path and a full life', () => {
    const walk = (from: CertificationState, path: CertificationEvent[]) => path.reduce(transition, from);
    expect(walk('draft', ['submit', 'start_review', 'approve', 'certify'])).toBe('certified');
    expect(walk('draft', ['submit', 'start_review', 'request_changes', 'resubmit', 'request_changes', 'resubmit', 'reject'])).toBe(
      'rejected',
    );
    expect(walk('certified', ['suspend', 'reinstate', 'suspend', 'supersede'])).toBe('superseded');
  });
});

describe('approvalDecision', () => {
  const ready = { failingChecks: 0, checksRun: true };
  const reviewers = (...ids: string[]) => ids.map((reviewerId) => ({ reviewerId }));

  it('is ready with two approvals by two different reviewers and no failing check', () => {
    expect(approvalDecision({ ...ready, approvals: reviewers('r1', 'r2') })).toEqual({ ready: true });
    expect(approvalDecision({ ...ready, approvals: reviewers('r1', 'r2', 'r1', 'r3') })).toEqual({ ready: true });
  });

  it('refuses no approval and one approval: a second reviewer is needed', () => {
    for (const approvals of [reviewers(), reviewers('r1')]) {
      const decision = approvalDecision({ ...ready, approvals });
      expect(decision).toMatchObject({ ready: false, reason: 'needs_second_reviewer' });
      if (!decision.ready) expect(decision.detail).toMatch(/2 different reviewers/);
    }
  });

  it('refuses the same reviewer twice (or thrice): one reviewer counts once', () => {
    for (const approvals of [reviewers('r1', 'r1'), reviewers('r1', 'r1', 'r1')]) {
      const decision = approvalDecision({ ...ready, approvals });
      expect(decision).toMatchObject({ ready: false, reason: 'same_reviewer' });
      if (!decision.ready) expect(decision.detail).toMatch(/1 more is needed/);
    }
  });

  it('compares reviewer ids exactly', () => {
    expect(approvalDecision({ ...ready, approvals: reviewers('r1', 'R1') })).toEqual({ ready: true });
  });

  it('honours requiredApprovals', () => {
    expect(approvalDecision({ ...ready, approvals: reviewers('r1'), requiredApprovals: 1 })).toEqual({ ready: true });
    expect(approvalDecision({ ...ready, approvals: reviewers('r1', 'r2'), requiredApprovals: 3 })).toMatchObject({
      ready: false,
      reason: 'needs_second_reviewer',
    });
    expect(approvalDecision({ ...ready, approvals: reviewers('r1', 'r2', 'r2'), requiredApprovals: 3 })).toMatchObject({
      ready: false,
      reason: 'same_reviewer',
    });
    expect(approvalDecision({ ...ready, approvals: reviewers('r1', 'r2', 'r3'), requiredApprovals: 3 })).toEqual({ ready: true });
    for (const requiredApprovals of [0, -1, 1.5, Number.NaN]) {
      expect(() => approvalDecision({ ...ready, approvals: reviewers('r1', 'r2'), requiredApprovals })).toThrow(RangeError);
    }
  });

  it('refuses a failing check whatever the approvals', () => {
    for (const failingChecks of [1, 3]) {
      const decision = approvalDecision({ checksRun: true, failingChecks, approvals: reviewers('r1', 'r2') });
      expect(decision).toMatchObject({ ready: false, reason: 'checks_failed' });
      if (!decision.ready) expect(decision.detail).toContain(failingChecks === 1 ? '1 check fails' : '3 checks fail');
    }
    for (const failingChecks of [-1, 0.5, Number.NaN]) {
      expect(() => approvalDecision({ checksRun: true, failingChecks, approvals: reviewers('r1', 'r2') })).toThrow(RangeError);
    }
  });

  it('refuses when the checks have not run, even with no failure counted', () => {
    expect(approvalDecision({ checksRun: false, failingChecks: 0, approvals: reviewers('r1', 'r2') })).toMatchObject({
      ready: false,
      reason: 'checks_not_run',
    });
  });

  it('puts checks before reviewers', () => {
    expect(approvalDecision({ checksRun: false, failingChecks: 2, approvals: reviewers('r1', 'r1') })).toMatchObject({
      reason: 'checks_not_run',
    });
    expect(approvalDecision({ checksRun: true, failingChecks: 2, approvals: reviewers('r1', 'r1') })).toMatchObject({ reason: 'checks_failed' });
  });
});

describe('reviewerConflict', () => {
  const publisher = { id: 'pub-1', domains: ['example.fr', 'Editeur.Sante.FR'] };
  const reviewer = (email: string, publisherIds: string[] = []) => ({ id: 'rev-1', email, publisherIds });

  it('is null for an unrelated reviewer', () => {
    expect(reviewerConflict({ reviewer: reviewer('alice@agence.gouv.fr', ['pub-2']), publisher })).toBeNull();
  });

  it('flags a reviewer linked to the publisher by id', () => {
    const reason = reviewerConflict({ reviewer: reviewer('alice@agence.gouv.fr', ['pub-2', 'pub-1']), publisher });
    expect(reason).toMatch(/linked to publisher pub-1/);
  });

  it('flags a reviewer whose email domain is a publisher domain, case-insensitively', () => {
    for (const email of ['bob@example.fr', 'bob@EXAMPLE.FR', 'bob@editeur.sante.fr', 'bob@example.fr.']) {
      expect(reviewerConflict({ reviewer: reviewer(email), publisher }), email).toMatch(/is a domain of publisher pub-1/);
    }
  });

  it('flags a reviewer whose email domain is under a publisher domain', () => {
    for (const email of ['bob@dev.example.fr', 'bob@a.b.Example.Fr', 'bob@rh.editeur.sante.fr']) {
      expect(reviewerConflict({ reviewer: reviewer(email), publisher }), email).toMatch(/is under .* a domain of publisher pub-1/);
    }
  });

  it('does not flag a domain that merely ends with the same letters, or a parent or sibling domain', () => {
    for (const email of ['bob@notexample.fr', 'bob@example.fr.evil.com', 'bob@fr', 'bob@sante.fr', 'bob@example.com', 'example.fr@other.fr']) {
      expect(reviewerConflict({ reviewer: reviewer(email), publisher }), email).toBeNull();
    }
  });

  it('uses the part after the last @ as the domain', () => {
    expect(reviewerConflict({ reviewer: reviewer('"a@other.fr"@example.fr'), publisher })).not.toBeNull();
  });

  it('flags an email without a domain, since independence cannot be checked', () => {
    for (const email of ['bob', 'bob@', '']) expect(reviewerConflict({ reviewer: reviewer(email), publisher }), email).toMatch(/no email domain/);
  });

  it('ignores empty publisher domains rather than matching everything', () => {
    expect(reviewerConflict({ reviewer: reviewer('bob@anything.fr'), publisher: { id: 'pub-1', domains: ['', '.'] } })).toBeNull();
  });

  it('is null for a publisher with no domains and no link', () => {
    expect(reviewerConflict({ reviewer: reviewer('bob@example.fr'), publisher: { id: 'pub-1', domains: [] } })).toBeNull();
  });
});

describe('appStatus', () => {
  const t0 = new Date('2026-12-01T10:00:00.000Z');
  const t1 = new Date('2026-12-02T10:00:00.000Z');

  it('is draft with nothing', () => {
    expect(appStatus({ liveCertificate: null, latestSubmission: null, lastEndedCertificate: null })).toBe('draft');
  });

  it('is the live certificate state whatever else there is', () => {
    for (const live of ['certified', 'suspended'] as const) {
      expect(appStatus({ liveCertificate: live, latestSubmission: null, lastEndedCertificate: null })).toBe(live);
      // A renewal under review, and an older certificate that was superseded, change nothing.
      expect(
        appStatus({
          liveCertificate: live,
          latestSubmission: { state: 'in_review', at: t1 },
          lastEndedCertificate: { state: 'superseded', at: t1 },
        }),
      ).toBe(live);
    }
  });

  it('refuses a live certificate in a state that is not live', () => {
    for (const state of ['revoked', 'expired', 'superseded', 'draft'] as const) {
      expect(() => appStatus({ liveCertificate: state, latestSubmission: null, lastEndedCertificate: null })).toThrow(RangeError);
    }
  });

  it('is the latest submission state without a certificate', () => {
    expect(appStatus({ liveCertificate: null, latestSubmission: { state: 'changes_requested', at: t0 }, lastEndedCertificate: null })).toBe(
      'changes_requested',
    );
  });

  it('is the last ended certificate state without a submission', () => {
    expect(appStatus({ liveCertificate: null, latestSubmission: null, lastEndedCertificate: { state: 'expired', at: t0 } })).toBe('expired');
  });

  it('takes the newer of the latest submission and the last ended certificate', () => {
    // A renewal submitted after the certificate expired shows its progress.
    expect(
      appStatus({ liveCertificate: null, latestSubmission: { state: 'submitted', at: t1 }, lastEndedCertificate: { state: 'expired', at: t0 } }),
    ).toBe('submitted');
    // A certificate revoked after its submission was certified shows revoked, not certified.
    expect(
      appStatus({ liveCertificate: null, latestSubmission: { state: 'certified', at: t0 }, lastEndedCertificate: { state: 'revoked', at: t1 } }),
    ).toBe('revoked');
  });

  it('takes the submission on equal times', () => {
    expect(
      appStatus({ liveCertificate: null, latestSubmission: { state: 'submitted', at: t0 }, lastEndedCertificate: { state: 'expired', at: new Date(t0) } }),
    ).toBe('submitted');
  });

  it('refuses an invalid date', () => {
    const invalid = new Date('not a date');
    expect(() => appStatus({ liveCertificate: null, latestSubmission: { state: 'submitted', at: invalid }, lastEndedCertificate: null })).toThrow(
      RangeError,
    );
    expect(() =>
      appStatus({ liveCertificate: null, latestSubmission: { state: 'submitted', at: t0 }, lastEndedCertificate: { state: 'expired', at: invalid } }),
    ).toThrow(RangeError);
  });
});
