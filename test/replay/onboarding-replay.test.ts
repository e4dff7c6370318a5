/**
 * Replays recorded histories of the onboarding workflow against the current workflow code: an
 * edit that would break onboardings already running (a non-deterministic change) fails here.
 * Re-record deliberately with `npx tsx scripts/record-history-onboarding.ts`. The `-v2` history
 * was recorded with the `onboarding-status-search-attribute` patch (its marker and the
 * TenureStatus upserts of each state); the others before it, so onboardings that publish no status
 * keep replaying too.
 */
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/logger';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { historyFromJson } from './history-json';

const DIR = fileURLToPath(new URL('./histories/', import.meta.url));
installTemporalRuntime(createLogger({ level: 'silent', name: 'onboarding-replay' }));
const files = readdirSync(DIR).filter((f) => /^onboarding-.*\.json$/.test(f)).sort();

describe('onboarding workflow replay', () => {
  it('has recorded histories of every ending', () => {
    expect(files).toEqual(['onboarding-accepted-v2.json', 'onboarding-accepted.json', 'onboarding-cancelled.json', 'onboarding-completed.json', 'onboarding-expired.json', 'onboarding-refused.json']);
  });

  for (const file of files) {
    it(`replays ${file} without a determinism error`, async () => {
      const history = historyFromJson(JSON.parse(readFileSync(DIR + file, 'utf8')));
      await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, file.replace(/\.json$/, ''));
    });
  }
});
