import type { components } from '@mes/openapi';
import { appCategories, certificationStatuses, grantEndReasons, isProblemCode, ProblemCode, problemCodes, type GrantEndReason } from '@mes/sdk';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';

type Schemas = components['schemas'];

describe('constants from the spec', () => {
  it('lists exactly the problem codes of the spec', () => {
    // Fails to compile when the spec adds or removes a code and the list is not updated.
    expectTypeOf<(typeof problemCodes)[number]>().toEqualTypeOf<Schemas['ProblemCode']>();
    expectTypeOf<keyof typeof ProblemCode>().toEqualTypeOf<Schemas['ProblemCode']>();
    expectTypeOf<ProblemCode>().toEqualTypeOf<Schemas['ProblemCode']>();
    expect(new Set(problemCodes).size).toBe(problemCodes.length);
  });

  it('exposes the codes as named constants', () => {
    expect(ProblemCode.not_found).toBe('not_found');
    expect(Object.keys(ProblemCode)).toEqual([...problemCodes]);
    expect(Object.isFrozen(ProblemCode)).toBe(true);
    // @ts-expect-error: not a code of the spec
    void ProblemCode.no_such_code;
    expect(isProblemCode('invalid_api_key')).toBe(true);
    expect(isProblemCode('nope')).toBe(false);
    expect(isProblemCode(404)).toBe(false);
  });

  it('lists exactly the categories and certification statuses of the spec', () => {
    expectTypeOf<(typeof appCategories)[number]>().toEqualTypeOf<Schemas['AppCategory']>();
    expectTypeOf<(typeof certificationStatuses)[number]>().toEqualTypeOf<Schemas['CertificationStatus']>();
  });

  it('matches the bundled spec at run time too', () => {
    const spec = JSON.parse(readFileSync(join(import.meta.dirname, '../../openapi/dist/openapi.json'), 'utf8')) as {
      components: { schemas: Record<string, { enum?: string[] }> };
    };
    expect([...problemCodes].sort()).toEqual([...(spec.components.schemas.ProblemCode?.enum ?? [])].sort());
    expect([...appCategories].sort()).toEqual([...(spec.components.schemas.AppCategory?.enum ?? [])].sort());
  });
});

describe('the reasons an access ends', () => {
  it('lists every reason of ReauthorizationRequiredError once', () => {
    expectTypeOf<(typeof grantEndReasons)[number]>().toEqualTypeOf<GrantEndReason>();
    expect(new Set(grantEndReasons).size).toBe(grantEndReasons.length);
  });
});

describe('portability', () => {
  it('imports nothing Node-specific, so the SDK runs in browsers', () => {
    const sourceDir = join(import.meta.dirname, '../src');
    const files = readdirSync(sourceDir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const source = readFileSync(join(sourceDir, file), 'utf8');
      expect(source, file).not.toMatch(/from ['"]node:|require\(|\bprocess\.|\bBuffer\b/);
    }
  });
});
