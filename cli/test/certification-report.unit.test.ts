import { describe, expect, it } from 'vitest';
import { renderReport, type CertificationReport } from '../src/certification-report.js';

const evil = '<script>alert(1)</script> | **bold** [x](javascript:alert(1)) `tick` &amp; $x$ \u001b[31m';
const hash = 'a'.repeat(64);

function report(): CertificationReport {
  return {
    generatedAt: '2026-03-01T10:00:00.000Z',
    source: 'http://localhost:4010/',
    submission: { id: 's1', state: 'certified', version: '1.0.0', criteriaVersion: '2026.1', submittedAt: '2026-03-01T09:00:00.000Z', updatedAt: '2026-03-01T09:30:00.000Z', approvals: 2, note: evil, sandboxClientId: 'mes_1' },
    app: { id: 'a1', name: `App ${evil}` },
    publisher: { id: 'p1', name: `Publisher ${evil}`, registrationNumber: '123' },
    snapshot: {
      name: evil,
      redirectUris: ['https://app.example.fr/cb'],
      scopes: [{ scope: 'patient/Observation.rs', justification: evil, purpose: 'suivi' }],
      privacyPolicyUrl: 'https://app.example.fr/p',
      termsUrl: 'https://app.example.fr/t',
      compliance: null,
    },
    checks: {
      id: 'r1',
      ranAt: '2026-03-01T09:10:00.000Z',
      ranBy: { type: 'reviewer', id: 'v1', name: evil },
      sandboxClientId: 'mes_1',
      evidenceSource: { kind: 'recorded', issuer: null, issuedAt: null },
      counts: { pass: 0, fail: 1, warn: 0 },
      results: [{ id: 'scopes.no_wildcard', group: 'scopes', title: evil, status: 'fail', summary: evil, remedy: evil, evidence: { body: '</pre><script>alert(2)</script>', ticks: '````' } }],
    },
    reviews: [
      {
        id: 'rv1',
        reviewer: { id: 'v1', name: `Reviewer ${evil}` },
        decision: 'approve',
        at: '2026-03-01T09:20:00.000Z',
        superseded: false,
        criteriaVersion: '2026.1',
        note: evil,
        verdicts: [{ criterion: 'ethics.purpose', title: { fr: evil }, verdict: 'not_applicable', note: evil }],
      },
    ],
    decisions: [{ seq: 1, id: 'd1', at: '2026-03-01T09:00:00.000Z', kind: 'submit', appId: 'a1', version: '1.0.0', submissionId: 's1', certificateId: null, actor: { type: 'publisher', id: 'p1' }, reason: evil, details: null, previousHash: '0'.repeat(64), hash, hashVerified: true }],
    certificate: null,
  };
}

describe('the certification report', () => {
  it('HTML: a standalone page where no value becomes markup', () => {
    const html = renderReport(report(), 'html');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"");
    expect(html).not.toMatch(/<script|<\/pre><script|javascript:alert\(1\)"|href=|src=|\u001b/);
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).toContain('&#60;/pre&#62;&#60;script&#62;alert(2)');
    expect(html).toContain(hash);
  });

  it('Markdown: values escaped, evidence fenced beyond its backticks, one table row per line', () => {
    const md = renderReport(report(), 'md');
    // Outside fenced code blocks (where the evidence is shown as it is), no raw markup.
    const prose = md.replace(/^(`{3,})json\n[\s\S]*?\n\1$/gm, '');
    expect(prose).not.toMatch(/(?<!\\)<script|\u001b/);
    expect(md).toContain('"body": "</pre><script>alert(2)</script>"');
    expect(md).toContain('\\<script\\>alert(1)\\</script\\> \\| \\*\\*bold\\*\\* \\[x\\](javascript:alert(1)) \\`tick\\` \\&amp; \\$x\\$');
    expect(md).toContain('`````json\n{');
    expect(md).toContain(`\`${hash}\``);
    for (const line of md.split('\n').filter((l) => l.startsWith('| '))) {
      // Every unescaped | is a cell border: rows keep their column count.
      expect(line.endsWith(' |'), line).toBe(true);
    }
  });

  it('JSON: the data itself', () => {
    expect(JSON.parse(renderReport(report(), 'json'))).toEqual(report());
  });
});
