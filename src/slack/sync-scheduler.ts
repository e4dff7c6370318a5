import { Queue, Worker } from 'bullmq';
import { QUEUE_NAMES, type QueueContext } from '../jobs/queues';
import type { SlackBot } from './bot';
import { runSlackSync } from './sync';

/**
 * Runs the Slack sync every `everyMs` through a BullMQ job scheduler, so that with several API
 * replicas one pass runs at a time. Lives in the process that holds the bot.
 */
export async function startSlackSync(bot: SlackBot, queue: QueueContext, everyMs: number): Promise<{ close(): Promise<void> }> {
  const q = new Queue(QUEUE_NAMES.slackSync, { connection: queue.connection, prefix: queue.prefix });
  await q.upsertJobScheduler('slack-sync', { every: everyMs }, { name: 'slack-sync', opts: { removeOnComplete: 100, removeOnFail: 100 } });
  const worker = new Worker(QUEUE_NAMES.slackSync, () => runSlackSync(bot.context, bot.app.client), {
    connection: queue.connection,
    prefix: queue.prefix,
    concurrency: 1,
  });
  worker.on('failed', (_job, err) => bot.context.logger.warn({ err }, 'slack sync failed'));
  worker.on('error', (err) => bot.context.logger.warn({ err }, 'slack sync worker error'));
  return {
    async close() {
      await worker.close();
      await q.close();
    },
  };
}
