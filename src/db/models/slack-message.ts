import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/**
 * A Slack message tenure keeps up to date: a process's progress message in the requester's
 * conversation, or an approval request in an approver's DM; or one sent once (a reminder in the
 * thread of an approval request), recorded so that it is never sent twice.
 */
const slackMessageSchema = new Schema(
  {
    kind: { type: String, enum: ['progress', 'approval', 'reminder'], required: true },
    workflowId: { type: String, required: true },
    /** For approvals: the plan version asked about and the approver's Slack id. */
    key: { type: String, required: true },
    channel: { type: String },
    ts: { type: String },
    title: { type: String },
    /** Approver (approval) or requester (progress), for the App Home. */
    slackUserId: { type: String },
    planVersion: { type: String },
    /** Hash of what was last rendered, so an unchanged message is not updated again. */
    rendered: { type: String },
    /**
     * For progress: the process status last shown, and until when the process has nothing new to
     * show while its status stays the same (an offboarding's undo window; without it, for as long
     * as the status stays, as an onboarding's), so a pass leaves it be.
     */
    processStatus: { type: String },
    idleUntil: { type: Date },
    finishedAt: { type: Date },
  },
  { collection: 'slack_messages', timestamps: true, versionKey: false },
);
slackMessageSchema.index({ key: 1 }, { unique: true });
slackMessageSchema.index({ finishedAt: 1, kind: 1 });
slackMessageSchema.index({ workflowId: 1 });
slackMessageSchema.index({ slackUserId: 1, kind: 1, finishedAt: 1 });

type SlackMessage = InferSchemaType<typeof slackMessageSchema>;
export type SlackMessageModel = Model<SlackMessage>;

export function slackMessageModel(conn: Connection): SlackMessageModel {
  return (conn.models.SlackMessage as SlackMessageModel | undefined) ?? conn.model<SlackMessage>('SlackMessage', slackMessageSchema);
}
