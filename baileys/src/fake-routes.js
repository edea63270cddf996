// Control routes of the fake driver, mounted only when WA_DRIVER=fake (never in production),
// behind the same X-Internal-Secret: they let cross-language tests script WhatsApp.
export function registerFakeRoutes(app, { driver, manager, schemas, params }) {
  const ok = { type: 'object', properties: { ok: { type: 'boolean' } } };
  const run = (fn) => async (req) => {
    try { await fn(req); } catch (e) {
      if (e.statusCode) throw Object.assign(new Error(e.message), { statusCode: e.statusCode });
      throw e;
    }
    return { ok: true };
  };
  app.post('/fake/:business_id/scan', {
    schema: { params, body: { type: ['object', 'null'], additionalProperties: false, properties: {
      phone: { type: 'string', pattern: '^\\+[1-9][0-9]{6,14}$' }, lid: { type: ['string', 'null'], pattern: '@lid$' } } }, response: { 200: ok } },
  }, run((req) => driver.scan(req.params.business_id, req.body || {})));
  app.post('/fake/:business_id/inbound', {
    schema: { params, body: { type: 'object', additionalProperties: false, properties: schemas.event_message_inbound.properties }, response: { 200: ok } },
  }, run((req) => driver.inbound(req.params.business_id, req.body)));
  app.post('/fake/:business_id/status', {
    schema: { params, body: schemas.event_message_status, response: { 200: ok } },
  }, run((req) => driver.status(req.params.business_id, req.body)));
  app.post('/fake/:business_id/disconnect', {
    schema: { params, body: { type: 'object', additionalProperties: false, required: ['code'], properties: {
      code: { type: 'integer', minimum: 100, maximum: 999 }, message: { type: 'string', maxLength: 200 } } }, response: { 200: ok } },
  }, run((req) => driver.disconnect(req.params.business_id, req.body.code, req.body.message || '')));
  app.post('/fake/:business_id/limit', {
    schema: { params, body: { type: 'object', additionalProperties: false, required: ['until'], properties: {
      until: { type: 'string', format: 'date-time' }, via: { enum: ['send', 'event'] } } }, response: { 200: ok } },
  }, run((req) => driver.limit(req.params.business_id, req.body.until, req.body.via || 'send')));
  app.post('/fake/:business_id/fail-next-send', {
    schema: { params, body: { type: 'object', additionalProperties: false, required: ['kind'], properties: {
      kind: { enum: ['send_failed', 'invalid_number', 'reach_out_limited'] } } }, response: { 200: ok } },
  }, run((req) => driver.failNext(req.params.business_id, req.body.kind)));
  app.post('/fake/:business_id/corrupt', { schema: { params, response: { 200: ok } } },
    run((req) => driver.corrupt(manager.authStore, req.params.business_id)));
  const sentSchema = {
    type: 'object',
    properties: {
      sent: { type: 'array', items: { type: 'object', properties: {
        to: { type: 'string' }, text: { type: 'string' }, messageId: { type: 'string' },
        media: { type: ['object', 'null'], properties: { url: { type: ['string', 'null'] }, path: { type: ['string', 'null'] }, mime: { type: 'string' }, caption: { type: 'string' } } },
      } } },
      reads: { type: 'array', items: { type: 'object', properties: { chat: { type: 'string' }, message_ids: { type: 'array', items: { type: 'string' } } } } },
    },
  };
  app.get('/fake/:business_id/sent', { schema: { params, response: { 200: sentSchema } } },
    async (req) => ({ sent: driver.sent.get(req.params.business_id) || [], reads: driver.reads.get(req.params.business_id) || [] }));
}
