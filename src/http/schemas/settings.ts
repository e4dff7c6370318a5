/** The organization's settings on the wire: the API's answer and the change it accepts (the console's form is checked by the same schema). */
import { z } from 'zod';
import { emailDomainProblem } from '../../domain/email';
import { PLANS } from '../../domain/plans';
import { freeText } from '../../domain/text';
import { objectIdString } from './common';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const domain = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .superRefine((value, ctx) => {
    const problem = value === '' ? null : emailDomainProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe('The organization\'s email domain ("" for none): invitees outside it need an explicit confirmation');

const settingsSchema = z.object({
  name: z.string(),
  plan: z.enum(PLANS),
  domain: z.string(),
  invitationLifetimeMs: z.number().int(),
  invitationResends: z.number().int(),
  offboarding: z.object({
    approvalRequired: z.boolean(),
    defaultNewOwnerId: z.string().nullable(),
    retentionMs: z.number().int().nullable(),
    immediateLockoutOnHrTermination: z.boolean(),
  }),
});

export const settingsAnswerSchema = z.object({
  settings: settingsSchema,
  usage: z.object({ plan: z.enum(PLANS), limit: z.number().int().nullable(), seatsInUse: z.number().int() }),
  notices: z.array(z.string()),
});

export const settingsChangeBody = z.strictObject({
  name: freeText(200).optional(),
  plan: z.enum(PLANS).optional(),
  domain: domain.optional(),
  invitationLifetimeMs: z.number().int().min(HOUR).max(90 * DAY).optional().describe('How long an invitation link works, in milliseconds (1 hour to 90 days)'),
  invitationResends: z.number().int().min(0).max(10).optional().describe('Automatic resends after the first invitation expires'),
  offboarding: z
    .strictObject({
      approvalRequired: z.boolean().optional(),
      defaultNewOwnerId: objectIdString.nullable().optional().describe("Who receives a leaver's resources when no manager can (an active user; null for none)"),
      retentionMs: z.number().int().min(DAY).max(3650 * DAY).nullable().optional().describe('How long a deactivated account is kept before its permanent delete, in milliseconds (1 to 3650 days); null keeps it'),
      immediateLockoutOnHrTermination: z.boolean().optional(),
    })
    .optional(),
  confirmOverLimit: z.boolean().optional().describe("Change to a plan whose limit is below the seats in use (nobody loses access; nobody is invited or reactivated until seats are freed)"),
});

