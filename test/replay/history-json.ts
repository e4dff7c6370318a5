/**
 * History JSON ⇄ History objects through @temporalio/proto's own protobufjs copy. The SDK's
 * historyFromJSON/historyToJSON fail with "type must be a Type" when npm installs two copies of
 * protobufjs 8 (one under @temporalio/common, one under @temporalio/proto), as it does here.
 */
import type * as proto from '@temporalio/proto';
import { createRequire } from 'node:module';

type ProtoJson = { fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown; toJson(type: unknown, message: unknown): unknown };

const require = createRequire(import.meta.url);
const requireFromProto = createRequire(require.resolve('@temporalio/proto'));
const protojson = requireFromProto('protobufjs/ext/protojson') as ProtoJson;
// The CommonJS module object itself (an ESM namespace import is not the protobufjs root).
const root = require('@temporalio/proto') as unknown;
const { patchProtobufRoot } = require('@temporalio/proto/lib/patch-protobuf-root') as { patchProtobufRoot(r: unknown): { lookupType(name: string): { fromObject(o: unknown): unknown } } };
const historyType = patchProtobufRoot(root).lookupType('temporal.api.history.v1.History');

export type History = proto.temporal.api.history.v1.IHistory;

/** Parses a history in Temporal's standard JSON form (as `temporal workflow show --output json` writes it). */
export function historyFromJson(json: unknown): History {
  return protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History;
}

/** Serialises a history (from `handle.fetchHistory()`) to Temporal's standard JSON form. */
export function historyToJson(history: History): unknown {
  return protojson.toJson(historyType, historyType.fromObject(history));
}
