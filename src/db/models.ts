import type { Connection } from 'mongoose';
import { accessTokenModel, tokenUsageModel } from './models/access-token';
import { auditEventModel } from './models/audit-event';
import { groupModel } from './models/group';
import { hrDeadLetterModel } from './models/hr-dead-letter';
import { idempotencyKeyModel } from './models/idempotency-key';
import { orgSettingsModel } from './models/org-settings';
import { resourceModel } from './models/resource';
import { scimLinkModel } from './models/scim-link';
import { serviceCredentialModel } from './models/service-credential';
import { sessionModel } from './models/session';
import { slackMessageModel } from './models/slack-message';
import { systemCheckModel } from './models/system-check';
import { userModel } from './models/user';
import { webhookCursorModel, webhookDeadLetterModel, webhookDeliveryModel, webhookEventModel, webhookSubscriptionModel } from './models/webhook';

/** Every model, bound to one connection. */
export function createModels(conn: Connection) {
  return {
    User: userModel(conn),
    Group: groupModel(conn),
    Resource: resourceModel(conn),
    Session: sessionModel(conn),
    AccessToken: accessTokenModel(conn),
    TokenUsage: tokenUsageModel(conn),
    AuditEvent: auditEventModel(conn),
    OrgSettings: orgSettingsModel(conn),
    SystemCheck: systemCheckModel(conn),
    HrDeadLetter: hrDeadLetterModel(conn),
    ScimLink: scimLinkModel(conn),
    SlackMessage: slackMessageModel(conn),
    ServiceCredential: serviceCredentialModel(conn),
    IdempotencyKey: idempotencyKeyModel(conn),
    WebhookSubscription: webhookSubscriptionModel(conn),
    WebhookEvent: webhookEventModel(conn),
    WebhookDelivery: webhookDeliveryModel(conn),
    WebhookDeadLetter: webhookDeadLetterModel(conn),
    WebhookCursor: webhookCursorModel(conn),
  };
}

export type Models = ReturnType<typeof createModels>;

/** Builds every declared index (idempotent); run once at start-up by each process. */
export async function ensureIndexes(models: Models): Promise<void> {
  for (const model of Object.values(models)) {
    await model.createIndexes();
  }
}
