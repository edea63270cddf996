// The gateway's HTTP API (docs/ARCHITECTURE.md §7): Fastify routes validated against the
// contract's JSON Schemas, X-Internal-Secret checked in constant time, X-WhatsApp-Shard routing.
import crypto from 'node:crypto';
import Fastify from 'fastify';
import { loadSchemas, ref } from './schemas.js';
import { HttpError } from './session-manager.js';
import { registerFakeRoutes } from './fake-routes.js';

export function secretMatches(expected, given) {
  if (typeof given !== 'string') return false;
  const a = crypto.createHash('sha256').update(expected).digest();
  const b = crypto.createHash('sha256').update(given).digest();
  return crypto.timingSafeEqual(a, b) && given.length === expected.length;
}

const BUSINESS_PARAMS = {
  type: 'object', additionalProperties: false, required: ['business_id'],
  properties: { business_id: { type: 'string', pattern: '^[0-9]{1,19}$' } },
};

export function buildApp({ settings, manager, events, driver, logger = false, startedAt = Date.now() }) {
  const app = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    disableRequestLogging: true,
    bodyLimit: 256 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  // An empty body with Content-Type: application/json (POST .../start from some clients) is no body.
  app.removeContentTypeParser('application/json');
  const jsonParser = app.getDefaultJsonParser('error', 'error'); // refuses __proto__/constructor keys
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    return jsonParser(request, body, done);
  });
  const schemas = loadSchemas();
  for (const s of Object.values(schemas)) app.addSchema(s);
  const err = ref(schemas, 'error');
  const state = { draining: false };
  app.decorate('gateway', state);

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof HttpError) return reply.code(error.status).send({ error: error.code, message: error.message, ...error.extra });
    if (error.validation) return reply.code(400).send({ error: 'bad_request', message: error.message });
    if (error.statusCode && error.statusCode < 500) return reply.code(error.statusCode).send({ error: 'bad_request', message: error.message });
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url}` }));

  const health = () => ({
    status: state.draining ? 'draining' : 'ok', shard_id: settings.shardId, driver: driver.name,
    uptime_seconds: Math.round((Date.now() - startedAt) / 100) / 10, sessions: manager.counts(), events_pending: events.pending,
  });
  app.get('/health', { schema: { response: { 200: ref(schemas, 'health'), 503: ref(schemas, 'health') } } },
    async (request, reply) => reply.code(state.draining ? 503 : 200).send(health()));

  app.register(async (secured) => {
    secured.addHook('onRequest', async (request, reply) => {
      if (!secretMatches(settings.secret, request.headers['x-internal-secret'])) {
        return reply.code(401).send({ error: 'unauthorized', message: 'missing or wrong X-Internal-Secret' });
      }
      if (state.draining && request.method !== 'GET') {
        return reply.code(503).send({ error: 'draining', message: 'the gateway is shutting down' });
      }
      if (request.url.startsWith('/sessions/')) {
        const raw = request.headers['x-whatsapp-shard'];
        if (typeof raw !== 'string' || !/^[0-9]{1,6}$/.test(raw)) {
          return reply.code(400).send({ error: 'bad_request', message: 'X-WhatsApp-Shard header (the business\'s whatsapp_shard) is required' });
        }
        if (Number(raw) !== settings.shardId) {
          return reply.code(421).send({ error: 'wrong_shard', message: 'business belongs to another shard', shard_id: settings.shardId, requested: Number(raw) });
        }
      }
      return undefined;
    });
    const errors = { 400: err, 401: err, 404: err, 409: err, 421: err, 422: err, 423: err, 500: err, 503: err };
    const session = ref(schemas, 'session');
    secured.post('/sessions/:business_id/start', { schema: { params: BUSINESS_PARAMS, response: { 200: session, ...errors } } },
      async (req) => manager.start(req.params.business_id));
    secured.get('/sessions/:business_id', { schema: { params: BUSINESS_PARAMS, response: { 200: session, ...errors } } },
      async (req) => manager.view(req.params.business_id));
    secured.get('/sessions/:business_id/qr', { schema: { params: BUSINESS_PARAMS, response: { 200: ref(schemas, 'qr'), ...errors } } },
      async (req) => manager.qr(req.params.business_id));
    secured.post('/sessions/:business_id/logout', { schema: { params: BUSINESS_PARAMS, response: { 200: session, ...errors } } },
      async (req) => manager.logout(req.params.business_id));
    secured.post('/sessions/:business_id/messages', {
      schema: { params: BUSINESS_PARAMS, body: ref(schemas, 'send_request'), response: { 200: ref(schemas, 'send_response'), ...errors } },
    }, async (req) => manager.send(req.params.business_id, req.body));
    secured.post('/sessions/:business_id/read', {
      schema: { params: BUSINESS_PARAMS, body: ref(schemas, 'read_request'), response: { 204: { type: 'null' }, ...errors } },
    }, async (req, reply) => { await manager.read(req.params.business_id, req.body); return reply.code(204).send(); });
    if (driver.name === 'fake') registerFakeRoutes(secured, { driver, manager, schemas, params: BUSINESS_PARAMS });
  });
  return app;
}
