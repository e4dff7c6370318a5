import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type RawReplyDefaultExpression, type RawRequestDefaultExpression, type RawServerDefault } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppDeps } from './deps';
import { installBodyEncoding } from './body-encoding';
import { frameworkError, handleClientError, registerErrorHandler } from './error-handler';
import { serializeRequest } from './log-redaction';
import { swaggerOptions } from './openapi';
import { applyRouteRules, createRouteAuthentication } from './route-rules';
import { scimOpenApiDocument } from '../scim/openapi';
import { SLACK_EVENTS_PATH, type SlackBot } from '../slack/bot';
import { installHttpMetrics, metricsRoute } from './metrics';
import { installHttpTracing } from './tracing';
import { tracingEnabled } from '../telemetry/tracing';
import { installProtection } from './protection';
import { healthRoutes } from './routes/health';
import { hrDeadLetterRoutes } from './routes/hr-dead-letters';
import { hrWebhookRoutes } from './routes/hr-webhooks';
import { scimRoutes } from './routes/scim';
import { offboardingRoutes } from './routes/offboarding';
import { invitationPageRoutes } from './routes/invitation-page';
import { onboardingRoutes } from './routes/onboarding';
import { serviceCredentialRoutes } from './routes/service-credentials';
import { settingsRoutes } from './routes/settings';
import { usersRoutes } from './routes/users';
import { webhookSubscriptionRoutes } from './routes/webhook-subscriptions';
import { consoleRoutes } from './console';

declare module 'fastify' {
  interface FastifyInstance {
    /** The Slack bot, when Slack credentials are configured. */
    slack: SlackBot | undefined;
  }
}

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/** Builds the HTTP API (not listening): routes, validation, error handling and the OpenAPI document. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const app = Fastify({
    // The request log shows URLs with tokens and credential-like query parameters redacted.
    loggerInstance: deps.logger.child({ component: 'http' }, { serializers: { req: serializeRequest } }) as FastifyBaseLogger,
    bodyLimit: deps.config.HTTP_BODY_LIMIT_BYTES,
    // Behind a load balancer the client address comes from X-Forwarded-For (audit "from where").
    trustProxy: deps.config.NODE_ENV === 'production',
    // Path parameters hold whole email addresses (up to 254 characters, more once %-encoded).
    routerOptions: { maxParamLength: 1024 },
    // Router-level refusals (bad URL encoding, overlong parameter) and requests Node's parser
    // refuses (malformed, too long) get the API's error body too.
    frameworkErrors: (err, request, reply) => frameworkError(err, request, reply as FastifyReply),
    clientErrorHandler: handleClientError,
  }).withTypeProvider<ZodTypeProvider>();

  // The Slack bot (HTTP mode) reads and verifies its own raw body, so its requests are handed to
  // Bolt's receiver before fastify parses anything.
  const slackListener = deps.slack?.requestListener;
  if (slackListener) {
    app.addHook('onRequest', (request, reply, done) => {
      if (request.url.split('?')[0] !== SLACK_EVENTS_PATH) return done();
      reply.hijack();
      slackListener(request.raw, reply.raw);
    });
  }
  app.decorate('slack', deps.slack);

  // Every route added from here on gets its access and closed input schemas (route-rules.ts);
  // authentication runs before anything reads the body.
  app.addHook('onRoute', applyRouteRules);
  // Metrics, then load shedding, rate limits and security headers, all before authentication.
  installHttpMetrics(app);
  // Requests as spans when tracing is on (http/tracing.ts).
  if (tracingEnabled()) installHttpTracing(app);
  await installProtection(app, deps.config, deps.rateLimitRedis);
  app.addHook('onRequest', createRouteAuthentication(deps.models, deps.logger));
  installBodyEncoding(app);

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandler(app);

  // The OpenAPI document (openapi.ts): servers, operationIds, shared components, CSV form.
  await app.register(swagger, swaggerOptions(deps.config.PUBLIC_BASE_URL));

  await app.register(healthRoutes(deps));
  await app.register(metricsRoute(deps));
  await app.register(hrWebhookRoutes(deps));
  await app.register(hrDeadLetterRoutes(deps));
  await app.register(scimRoutes(deps), { prefix: '/scim/v2' });
  await app.register(usersRoutes(deps));
  await app.register(onboardingRoutes(deps));
  await app.register(invitationPageRoutes(deps));
  await app.register(settingsRoutes(deps));
  await app.register(offboardingRoutes(deps));
  await app.register(serviceCredentialRoutes(deps));
  await app.register(webhookSubscriptionRoutes(deps));
  await app.register(consoleRoutes(deps), { prefix: '/console' });

  app.get('/openapi.json', { schema: { hide: true, security: [] } }, async () => app.swagger());
  // SCIM has a document of its own (src/scim/openapi.ts says why).
  const scimDocument = scimOpenApiDocument(deps.config.PUBLIC_BASE_URL);
  app.get('/scim/v2/openapi.json', { schema: { hide: true, security: [] } }, async () => scimDocument);

  return app;
}
