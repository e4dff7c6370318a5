/**
 * The page the invitation email links to (`/invitations/<token>/accept`): who invited whom to
 * what and until when, a form to confirm one's name and accept, and a page of its own for a link
 * that is used, expired, superseded, cancelled, withdrawn or unknown. No JavaScript, no session:
 * the token in the link is the credential, as for `POST /v1/invitations/<token>/accept`, whose
 * rules (one conditional write, single use, access ended) apply unchanged.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { getOrgSettings } from '../../db/models/org-settings';
import { roleLabel } from '../../domain/roles';
import { freeText } from '../../domain/text';
import { AppError } from '../../errors';
import { offboardingRunning } from '../../processes/offboarding';
import { tellInvitationAccepted } from '../../processes/onboarding';
import { acceptInvitation, describeInvitation, type InvitationView } from '../../services/invitations';
import { displayName } from '../../services/user-view';
import { decodeUtf8 } from '../body-encoding';
import type { AppDeps } from '../deps';
import { html, sendPage, type Html } from '../pages/html';

const tokenParams = z.strictObject({ token: z.string().regex(/^[A-Za-z0-9_-]{20,128}$/, 'is not an invitation token') });
const acceptForm = z.strictObject({ firstName: z.string().max(1000).optional(), lastName: z.string().max(1000).optional() });
const nameField = freeText(100);

/** The heading of the page for each reason a link cannot be used. */
const REFUSAL_TITLES: Record<string, string> = {
  invitation_not_found: 'This link is not valid',
  invitation_used: 'This invitation has already been used',
  invitation_expired: 'This invitation has expired',
  invitation_superseded: 'A newer invitation was sent',
  invitation_cancelled: 'This invitation was cancelled',
  invitation_revoked: 'This invitation was withdrawn',
  invitation_withdrawn: 'This invitation was withdrawn',
};

export function invitationPageRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const { models, temporal, config } = deps;
  const when = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: config.ORGANIZATION_TIME_ZONE, timeZoneName: 'short' });

  return async (app) => {
    // The form posts URL-encoded fields; in this plugin only, decoded as strict UTF-8 like every body.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: 4096 }, (_request, body, done) => {
      try {
        done(null, Object.fromEntries(new URLSearchParams(decodeUtf8(body as Buffer))));
      } catch (err) {
        done(err as Error, undefined);
      }
    });

    app.get('/invitations/:token/accept', { schema: { hide: true, security: [], params: tokenParams } }, async (request, reply) => {
      try {
        const view = await describeInvitation(models, request.params.token);
        return sendPage(reply, 200, `Join ${view.organization}`, invitationForm(view, when, {}));
      } catch (err) {
        return refusalPage(reply, err);
      }
    });

    app.post('/invitations/:token/accept', { schema: { hide: true, security: [], params: tokenParams, body: acceptForm } }, async (request, reply) => {
      const { token } = request.params;
      const given = { firstName: request.body.firstName?.trim() ?? '', lastName: request.body.lastName?.trim() ?? '' };
      const problems: Record<string, string> = {};
      for (const field of ['firstName', 'lastName'] as const) {
        const checked = given[field] ? nameField.safeParse(given[field]) : undefined;
        if (checked && !checked.success) problems[field] = checked.error.issues[0]?.message ?? 'is not a name';
      }
      try {
        if (Object.keys(problems).length) {
          const view = await describeInvitation(models, token);
          return sendPage(reply, 422, `Join ${view.organization}`, invitationForm(view, when, { given, problems }));
        }
        const accepted = await acceptInvitation(models, token, { ip: request.ip }, new Date(), {
          offboardingUnderWay: (userId) => offboardingRunning(temporal, String(userId)),
          names: { firstName: given.firstName || undefined, lastName: given.lastName || undefined },
        });
        if (accepted.workflowId) {
          // The account is already active; the signal lets the process tell the requester.
          await tellInvitationAccepted(temporal, accepted.workflowId, { userId: String(accepted.user._id), at: new Date().toISOString() }).catch((err) => request.log.warn({ err, workflowId: accepted.workflowId }, 'could not signal the onboarding process'));
        }
        const settings = await getOrgSettings(models.OrgSettings);
        return sendPage(
          reply,
          200,
          'Welcome',
          html`<h1>Welcome to ${settings.name}, ${displayName(accepted.user)}</h1>
<p>Your account <strong>${accepted.user.email}</strong> is active. This link has done its job and no longer works.</p>`,
        );
      } catch (err) {
        return refusalPage(reply, err);
      }
    });
  };
}

interface FormState {
  given?: { firstName: string; lastName: string };
  problems?: Record<string, string>;
}

function invitationForm(view: InvitationView, when: Intl.DateTimeFormat, state: FormState): Html {
  const inviter = view.invitedBy ? html`<strong>${displayName(view.invitedBy)}</strong> (${view.invitedBy.email}) invited you` : html`You are invited`;
  const value = (field: 'firstName' | 'lastName') => state.given?.[field] ?? view.invitee[field] ?? '';
  const problem = (field: 'firstName' | 'lastName', label: string) => (state.problems?.[field] ? html`<p class="problem" id="${field}-problem">${label} ${state.problems[field]}.</p>` : '');
  return html`<h1>Join ${view.organization}</h1>
<p>${inviter}, <strong>${view.invitee.email}</strong>, to join <strong>${view.organization}</strong> as ${roleLabel(view.invitee.siteRole)}.</p>
<p class="muted">This link works until ${when.format(view.expiresAt)}, once.</p>
<form method="post">
<label for="firstName">First name</label>
<input type="text" id="firstName" name="firstName" maxlength="100" autocomplete="given-name" value="${value('firstName')}">
${problem('firstName', 'First name')}
<label for="lastName">Last name</label>
<input type="text" id="lastName" name="lastName" maxlength="100" autocomplete="family-name" value="${value('lastName')}">
${problem('lastName', 'Last name')}
<button type="submit">Accept the invitation</button>
</form>`;
}

/** A link that cannot be used gets its own page, with the status and the sentence the API gives. */
function refusalPage(reply: Parameters<typeof sendPage>[0], err: unknown) {
  if (!(err instanceof AppError) || err.status >= 500) throw err;
  const title = REFUSAL_TITLES[err.code] ?? 'This invitation cannot be accepted';
  return sendPage(reply, err.status, title, html`<h1>${title}</h1><p class="problem" data-code="${err.code}">${err.message}</p>`);
}
