import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requestContext } from '../../app/request-context.ts';
import { IdParams, Page } from '../../app/schemas.ts';
import { CONFIG_SCHEMA } from './config/config.validate.ts';
import {
  BookingQuery,
  Config,
  ConfigDocumentBody,
  ConfigList,
  ConfigParams,
  Connection,
  ConnectionBody,
  ConnectionQuery,
  ErrorQuery,
  IngestedBooking,
  IngestionError,
  JsonSchemaDocument,
  PreviewBody,
  PreviewResult,
  PropertyParams,
  ReplayBody,
  RunQuery,
  SyncBody,
  SyncRun,
  ValueMapsPatch,
  VanishedBooking,
  VanishedQuery,
} from './integrations.schemas.ts';

const tags = ['integrations'];
const secured = [{ bearerAuth: [] }];
const base = '/api/integrations/pms';

/** The HTTP face of PMS integration: configs, connections, sync runs, quarantine, ingested bookings. */
export const integrationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    `${base}/configs/schema/`,
    {
      schema: {
        tags,
        summary: 'The JSON Schema (2020-12) of PMS config documents',
        security: [],
        response: { 200: JsonSchemaDocument },
      },
    },
    async () => CONFIG_SCHEMA,
  );

  app.get(
    `${base}/configs/`,
    {
      onRequest: app.authenticate,
      schema: { tags, summary: 'List PMS configs', security: secured, response: { 200: ConfigList } },
    },
    async (request) => app.integrations.configs.list(request.actor),
  );

  app.get(
    `${base}/configs/:pms_type/:version/`,
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'A PMS config with its document',
        security: secured,
        params: ConfigParams,
        response: { 200: Config },
      },
    },
    async (request) =>
      app.integrations.configs.get(request.actor, request.params.pms_type, request.params.version),
  );

  app.post(
    `${base}/configs/`,
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Upload a PMS config (the document is the body); SUPER_ADMIN',
        description:
          'Stored by (pms_type, version): 201 when new, 200 when it replaced a stored one. An invalid document is ' +
          'refused with 400 VALIDATION_ERROR listing every problem by JSON pointer.',
        security: secured,
        body: ConfigDocumentBody,
        response: { 200: Config, 201: Config },
      },
    },
    async (request, reply) => {
      const result = await app.integrations.configs.upload(requestContext(request), request.body);
      return reply.status(result.created ? 201 : 200).send(result.config);
    },
  );

  app.post(
    `${base}/configs/preview/`,
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Map sample raw records, or the records of a sample answer, with a config, writing nothing',
        description:
          'Give `records` (raw records) or `response_body` (an answer as the PMS sends it, JSON or XML text): its ' +
          'records are extracted as the connector extracts them and returned as `records`. An answer the connector ' +
          'would fail (a failure the config recognises, an XML document type declaration) is refused with 400.',
        security: secured,
        body: PreviewBody,
        response: { 200: PreviewResult },
      },
    },
    async (request) => app.integrations.configs.preview(request.actor, request.body),
  );

  app.get(
    `${base}/connections/`,
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'List PMS connections',
        security: secured,
        querystring: ConnectionQuery,
        response: { 200: Page(Connection) },
      },
    },
    async (request) =>
      app.integrations.connections.list(request.actor, {
        ...request.query,
        limit: request.query.limit ?? 50,
      }),
  );

  app.get(
    `${base}/connections/:property_id/`,
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: "A property's PMS connection",
        security: secured,
        params: PropertyParams,
        response: { 200: Connection },
      },
    },
    async (request) => app.integrations.connections.get(request.actor, request.params.property_id),
  );

  app.put(
    `${base}/connections/:property_id/`,
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: "Create or replace a property's PMS connection",
        description:
          'Secret values are stored encrypted and never returned: responses list their names only. ' +
          'Secrets left out are kept, except when base_url moves to another origin (scheme, host, port): ' +
          'then they must be given again (400 SECRETS_REQUIRED).',
        security: secured,
        params: PropertyParams,
        body: ConnectionBody,
        response: { 200: Connection, 201: Connection },
      },
    },
    async (request, reply) => {
      const result = await app.integrations.connections.put(
        requestContext(request),
        request.params.property_id,
        request.body,
      );
      return reply.status(result.created ? 201 : 200).send(result.connection);
    },
  );

  app.patch(
    `${base}/connections/:property_id/value-maps/`,
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: "Change a property's PMS value maps (JSON Merge Patch)",
        description:
          'The body is a JSON Merge Patch (RFC 7396) of the value maps: `{"room_types": {"4037c0ec": "DBL", ' +
          '"old-id": null}}` sets one entry and removes another; a map set to null is removed. The maps after ' +
          'the patch are validated as a whole (400 VALIDATION_ERROR, nothing changed) and the change is audited.',
        security: secured,
        params: PropertyParams,
        body: ValueMapsPatch,
        response: { 200: Connection },
      },
    },
    async (request) =>
      app.integrations.connections.patchValueMaps(
        requestContext(request),
        request.params.property_id,
        request.body,
      ),
  );

  app.post(
    `${base}/sync/`,
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: "Sync a property's bookings from its PMS now",
        description: '202 with the queued run, or with "wait": true, 200 with the finished run.',
        security: secured,
        body: SyncBody,
        response: { 200: SyncRun, 202: SyncRun },
      },
    },
    async (request, reply) => {
      const result = await app.integrations.sync.request(requestContext(request), request.body);
      return reply.status(result.finished ? 200 : 202).send(result.run);
    },
  );

  app.get(
    `${base}/sync-runs/`,
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'List sync runs, newest first',
        security: secured,
        querystring: RunQuery,
        response: { 200: Page(SyncRun) },
      },
    },
    async (request) =>
      app.integrations.sync.listRuns(request.actor, { ...request.query, limit: request.query.limit ?? 50 }),
  );

  app.get(
    `${base}/sync-runs/:id/`,
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'A sync run',
        security: secured,
        params: IdParams,
        response: { 200: SyncRun },
      },
    },
    async (request) => app.integrations.sync.getRun(request.actor, request.params.id),
  );

  app.get(
    `${base}/vanished/`,
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Bookings full listings no longer returned (reconciliation), reported or cancelled',
        security: secured,
        querystring: VanishedQuery,
        response: { 200: Page(VanishedBooking) },
      },
    },
    async (request) =>
      app.integrations.sync.listVanished(request.actor, {
        ...request.query,
        limit: request.query.limit ?? 50,
      }),
  );

  app.get(
    `${base}/errors/`,
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Quarantined records, with stage, error type, message and raw payload',
        security: secured,
        querystring: ErrorQuery,
        response: { 200: Page(IngestionError) },
      },
    },
    async (request) =>
      app.integrations.sync.listErrors(request.actor, { ...request.query, limit: request.query.limit ?? 50 }),
  );

  app.post(
    `${base}/errors/replay/`,
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: "Replay a property's quarantined records through its current config",
        security: secured,
        body: ReplayBody,
        response: { 200: SyncRun, 202: SyncRun },
      },
    },
    async (request, reply) => {
      const result = await app.integrations.sync.replay(requestContext(request), request.body);
      return reply.status(result.finished ? 200 : 202).send(result.run);
    },
  );

  app.get(
    `${base}/bookings/`,
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Bookings ingested from PMSs',
        security: secured,
        querystring: BookingQuery,
        response: { 200: Page(IngestedBooking) },
      },
    },
    async (request) =>
      app.integrations.bookings.list(request.actor, { ...request.query, limit: request.query.limit ?? 50 }),
  );
};
