// The example load-balancer configuration in docs/operators.md is the one the cluster test runs
// (npm run test:cluster, cluster/haproxy.cfg): the guide cannot drift from what is tested.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('the deployment guide', () => {
  it('shows the HAProxy configuration of the cluster test as it is', () => {
    const block = /```haproxy\n([\s\S]*?)```/.exec(read('docs/operators.md'))?.[1];
    expect(block).toBe(read('cluster/haproxy.cfg'));
  });
});
