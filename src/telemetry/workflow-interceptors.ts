/**
 * The workflow bundle's tracing interceptors (not a workflow): the workflow's run continues the
 * trace its start carries, and the activities it schedules carry it on. Updates, signals and
 * queries pass through untraced: the library's update wrapper adds awaits around the handler,
 * which changed the order of a rejected update and a cancelled timer between a run and its replay
 * (a nondeterminism error on approval updates).
 */
import type { WorkflowInterceptors } from '@temporalio/workflow';
import { OpenTelemetryInboundInterceptor, OpenTelemetryInternalsInterceptor, OpenTelemetryOutboundInterceptor } from '@temporalio/interceptors-opentelemetry/lib/workflow';

/** Traces the workflow's run only. */
class RunOnlyInboundInterceptor extends OpenTelemetryInboundInterceptor {
  override handleUpdate: OpenTelemetryInboundInterceptor['handleUpdate'] = (input, next) => next(input);
  override validateUpdate: OpenTelemetryInboundInterceptor['validateUpdate'] = (input, next) => next(input);
  override handleSignal: OpenTelemetryInboundInterceptor['handleSignal'] = (input, next) => next(input);
  override handleQuery: OpenTelemetryInboundInterceptor['handleQuery'] = (input, next) => next(input);
}

export const interceptors = (): WorkflowInterceptors => ({
  inbound: [new RunOnlyInboundInterceptor()],
  outbound: [new OpenTelemetryOutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
