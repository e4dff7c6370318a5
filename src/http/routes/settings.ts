/** The organization's settings: read (Administrators, Security Managers, Auditors) and change (Administrators). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { changeSettings, readSettings } from '../../services/org-settings';
import { actorOf } from '../auth';
import type { AppDeps } from '../deps';
import { AUTH_ERRORS, errorResponses } from '../schemas/common';
import { settingsAnswerSchema, settingsChangeBody } from '../schemas/settings';
import { createGuard } from './guards';

export function settingsRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const guard = createGuard(deps);
  return async (app) => {
    app.get(
      '/v1/settings',
      {
        onRequest: guard('settings:read'),
        schema: { tags: ['settings'], summary: "The organization's settings and its use of the plan", response: { 200: settingsAnswerSchema, ...errorResponses(...AUTH_ERRORS) } },
      },
      async () => readSettings(deps.models),
    );

    app.patch(
      '/v1/settings',
      {
        onRequest: guard('settings:manage'),
        schema: {
          tags: ['settings'],
          summary: "Change the organization's settings (only the fields given); audited as settings.changed with each field's old and new value",
          body: settingsChangeBody,
          response: { 200: settingsAnswerSchema, ...errorResponses(...AUTH_ERRORS, 409, 422) },
        },
      },
      async (request) => {
        const { confirmOverLimit, ...change } = request.body;
        return changeSettings(deps.models, change, actorOf(request), { confirmOverLimit });
      },
    );
  };
}
