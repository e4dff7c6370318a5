/**
 * Replays recorded histories of the offboarding and reactivation workflows against the current
 * code: an edit that would break offboardings already running (a non-deterministic change)
 * fails here. Re-record deliberately with `npx tsx scripts/record-history-offboarding.ts`. The
 * `-v2` histories were recorded with the `status-search-attribute` patch (TenureStatus upserts and
 * their markers); the `-v3` ones also with `connected-lockout` and `systems-read-activity` (an
 * immediate lockout that asks for the connected systems, the plan reading them in an activity of
 * its own); the `-v4` ones also with `systems-read-when-configured` (no connected system on the
 * worker, so no activity reads them); the others before all of these, so every kind of running
 * offboarding is covered.
 */
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/logger';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { historyFromJson } from './history-json';

const DIR = fileURLToPath(new URL('./histories/', import.meta.url));
installTemporalRuntime(createLogger({ level: 'silent', name: 'offboarding-replay' }));
const files = readdirSync(DIR).filter((f) => /^offboarding-.*\.json$/.test(f)).sort();

describe('offboarding workflow replay', () => {
  it('has recorded histories of every ending', () => {
    expect(files).toEqual([
      'offboarding-approved-v2.json',
      'offboarding-approved-v3.json',
      'offboarding-approved-v4.json',
      'offboarding-approved.json',
      'offboarding-cancelled.json',
      'offboarding-deleted-v2.json',
      'offboarding-deleted.json',
      'offboarding-reactivated.json',
      'offboarding-reactivation.json',
      'offboarding-rejected-v3.json',
      'offboarding-rejected-v4.json',
      'offboarding-rejected.json',
      'offboarding-undone-v2.json',
      'offboarding-undone.json',
    ]);
  });

  for (const file of files) {
    it(`replays ${file} without a determinism error`, async () => {
      const history = historyFromJson(JSON.parse(readFileSync(DIR + file, 'utf8')));
      await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, file.replace(/\.json$/, ''));
    });
  }

  it('fails the replay when the workflow code would take another path', async () => {
    // The approved history with its first activity renamed: replaying it must not pass silently.
    const json = JSON.parse(readFileSync(`${DIR}offboarding-approved.json`, 'utf8')) as { events: Array<Record<string, { activityType?: { name: string } }>> };
    const scheduled = json.events.find((e) => e.activityTaskScheduledEventAttributes)!.activityTaskScheduledEventAttributes!;
    scheduled.activityType = { name: 'somethingElse' };
    await expect(Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, historyFromJson(json), 'tampered')).rejects.toThrow();
  });
});
