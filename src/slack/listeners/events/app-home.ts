import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { SlackContext } from '../../context';

/** App Home: the viewer's pending approvals and the processes they started. */
export function appHomeOpenedCallback(ctx: SlackContext) {
  return async ({ event, client }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs) => {
    if (event.tab && event.tab !== 'home') return;
    const [approvals, started] = await Promise.all([
      ctx.models.SlackMessage.find({ kind: 'approval', slackUserId: event.user, finishedAt: null }).sort({ createdAt: -1 }).limit(20).lean(),
      ctx.models.SlackMessage.find({ kind: 'progress', slackUserId: event.user }).sort({ createdAt: -1 }).limit(10).lean(),
    ]);
    const link = (channel?: string | null, ts?: string | null) => (channel && ts ? ` <https://slack.com/app_redirect?channel=${channel}&message_ts=${ts}|open>` : '');
    await client.views.publish({
      user_id: event.user,
      view: {
        type: 'home',
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: 'Waiting for your approval' } },
          {
            type: 'section',
            text: { type: 'mrkdwn', text: approvals.length ? approvals.map((a) => `• Offboarding of *${a.title}*${link(a.channel, a.ts)}`).join('\n') : 'Nothing waits for you.' },
          },
          { type: 'divider' },
          { type: 'header', text: { type: 'plain_text', text: 'Processes you started' } },
          {
            type: 'section',
            text: { type: 'mrkdwn', text: started.length ? started.map((p) => `• ${p.title} — ${p.finishedAt ? 'finished' : 'in progress'} (\`${p.workflowId}\`)`).join('\n') : 'None yet. Try `/offboard` or `/onboard`.' },
          },
        ],
      },
    });
  };
}
