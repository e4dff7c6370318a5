import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/** A group or shared workspace; membership is the `groups` list on each user. */
const groupSchema = new Schema(
  {
    name: { type: String, required: true },
    description: { type: String },
  },
  { collection: 'groups', timestamps: true, versionKey: false },
);
groupSchema.index({ name: 1 }, { unique: true });

export type Group = InferSchemaType<typeof groupSchema>;
export type GroupModel = Model<Group>;

export function groupModel(conn: Connection): GroupModel {
  return (conn.models.Group as GroupModel | undefined) ?? conn.model<Group>('Group', groupSchema);
}
