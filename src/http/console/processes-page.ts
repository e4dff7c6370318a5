/**
 * The running processes (onboardings, offboardings, reactivations, bulk offboardings), newest
 * first, read from Temporal's visibility store through the process clients: what each is about,
 * where an offboarding stands, since when. Each row links to the user's page, where its steps are
 * followed and, for whoever may, acted on. The page reloads itself while open.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Types } from 'mongoose';
import { runningProcesses } from '../../processes/progress';
import { displayName } from '../../services/user-view';
import type { AppDeps } from '../deps';
import { html } from '../pages/html';
import { sendConsolePage } from './session';
import { dateFormatter } from './view';

const SHOWN = 200;

export function processesPageRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { models, temporal } = deps;
  const when = dateFormatter(deps.config.ORGANIZATION_TIME_ZONE);
  return async (app) => {
    app.get('/processes', { config: { consolePermission: 'processes:read' }, schema: { hide: true, security: [] } }, async (request, reply) => {
      const running = await runningProcesses(temporal, deps.config.TEMPORAL_TASK_QUEUE, SHOWN);
      const ids = running.map((r) => r.subject).filter((s): s is string => !!s && Types.ObjectId.isValid(s) && !s.includes('@'));
      const emails = running.map((r) => r.subject).filter((s): s is string => !!s?.includes('@'));
      const users = await models.User.find({ $or: [{ _id: { $in: ids } }, { email: { $in: emails } }] }, { email: 1, firstName: 1, lastName: 1, preferredName: 1 }).lean();
      const bySubject = new Map(users.flatMap((u) => [[String(u._id), u] as const, [u.email, u] as const]));
      const rows = running.map((r) => {
        const user = r.subject ? bySubject.get(r.subject) : undefined;
        const about = user ? html`<a href="/console/users/${String(user._id)}">${displayName(user)}</a> (${user.email})` : (r.subject ?? '');
        return html`<tr><td>${r.kind}</td><td>${about}</td><td>${r.status?.replace(/_/g, ' ') ?? 'running'}</td><td>${when.format(r.startedAt)}</td><td class="muted">${r.workflowId}</td></tr>`;
      });
      const body = html`<h1>Processes</h1>
<p class="muted">Running now, newest first${running.length >= SHOWN ? html` (the first ${SHOWN})` : ''}. Open a user to follow the steps and act.</p>
${rows.length ? html`<table id="processes-table"><thead><tr><th>Process</th><th>About</th><th>Where it stands</th><th>Started</th><th>Id</th></tr></thead><tbody>${rows}</tbody></table>` : html`<p class="muted" id="no-processes">No process is running.</p>`}`;
      return sendConsolePage(request, reply, 200, 'Processes', body, { refreshSeconds: 10 });
    });
  };
}
