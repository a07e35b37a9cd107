import { describe, expect, it } from 'vitest';
import {
  canTransition,
  InvalidTransitionError,
  isTerminal,
  transition,
  type JobState,
  type JobStatus,
} from '../../core/job.ts';

const ALL: JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'canceled', 'expired'];
// The whole table (docs/architecture.md, "Job states"): every pair not listed is forbidden.
const ALLOWED = new Set([
  'queued>running',
  'queued>canceled',
  'queued>expired',
  'queued>failed',
  'running>succeeded',
  'running>failed',
  'running>canceled',
  'running>queued',
]);

const job = (status: JobStatus): JobState => ({
  status,
  version: 3,
  createdAt: '2026-11-26T10:00:00.000Z',
  startedAt: status === 'queued' ? undefined : '2026-11-26T10:00:05.000Z',
});

describe('job state machine', () => {
  it.each(ALL.flatMap((from) => ALL.map((to) => [from, to] as const)))('%s → %s', (from, to) => {
    const legal = ALLOWED.has(`${from}>${to}`);
    expect(canTransition(from, to)).toBe(legal);
    if (legal) expect(transition(job(from), to, new Date()).status).toBe(to);
    else expect(() => transition(job(from), to, new Date())).toThrow(InvalidTransitionError);
  });

  it('terminal states are exactly those with no way out', () => {
    for (const s of ALL) expect(isTerminal(s)).toBe(ALL.every((to) => !canTransition(s, to)));
  });

  it('stamps times and bumps the version', () => {
    const at = new Date('2026-11-26T10:01:00.000Z');
    const running = transition(job('queued'), 'running', at);
    expect(running).toMatchObject({ version: 4, startedAt: at.toISOString() });
    const done = transition(running, 'succeeded', new Date('2026-11-26T10:02:00.000Z'));
    expect(done).toMatchObject({
      version: 5,
      startedAt: at.toISOString(),
      completedAt: '2026-11-26T10:02:00.000Z',
    });
    // A drained job goes back to the queue without a start time.
    expect(transition(running, 'queued', new Date()).startedAt).toBeUndefined();
  });
});
