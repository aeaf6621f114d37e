import { Secret, Type, type Static } from 'kubegate/sdk';

const Str = (description: string, o: object = {}) => Type.String({ description, ...o });
const Expr = (description: string) => Type.String({ minLength: 1, description: `JSONata expression: ${description}` });

/** Credentials added to every upstream call; secrets inline (or `${env:NAME}`) are masked, files are read per poll. */
export const AuthConfig = Type.Object(
  {
    kind: Str('bearer, header or basic'),
    token: Type.Optional(Secret(Str('bearer: the token, e.g. ${env:GITHUB_TOKEN}'))),
    tokenFile: Type.Optional(Str('bearer: a file holding the token (a mounted Secret), read at every poll')),
    header: Type.Optional(Str('header: the header name, e.g. X-Api-Key')),
    value: Type.Optional(Secret(Str('header: the header value, e.g. ${env:API_KEY}'))),
    valueFile: Type.Optional(Str('header: a file holding the header value, read at every poll')),
    username: Type.Optional(Str('basic: the user name')),
    password: Type.Optional(Secret(Str('basic: the password, e.g. ${env:API_PASSWORD}'))),
    passwordFile: Type.Optional(Str('basic: a file holding the password, read at every poll')),
  },
  { additionalProperties: false },
);

export const PaginationConfig = Type.Object(
  {
    kind: Str('none, link, cursor, page or offset'),
    param: Type.Optional(Str('cursor, page, offset: the query parameter carrying the cursor, page or offset')),
    next: Type.Optional(Expr('cursor: the next cursor in the response body; empty or absent on the last page')),
    start: Type.Optional(Type.Integer({ description: 'page: the first page number (default 1); offset: 0' })),
    sizeParam: Type.Optional(Str('page, offset: the query parameter of the page size, e.g. per_page')),
    size: Type.Optional(Type.Integer({ minimum: 1, description: 'page, offset: items asked for per page' })),
    maxPages: Type.Optional(Type.Integer({ minimum: 1, description: 'pages one poll may read (default 100)' })),
  },
  { additionalProperties: false },
);

export const MappingConfig = Type.Object(
  {
    name: Expr('metadata.name of an item, e.g. `name` or `$string(id)`'),
    namespace: Type.Optional(Expr('metadata.namespace (Namespaced resources)')),
    labels: Type.Optional(Expr('an object of labels')),
    annotations: Type.Optional(Expr('an object of annotations (string values)')),
    creationTimestamp: Type.Optional(Expr('when the upstream created the item (RFC 3339 or epoch milliseconds)')),
    spec: Type.Optional(Expr('the object spec')),
    status: Type.Optional(Expr('the object status')),
  },
  { additionalProperties: false },
);

export const ColumnConfig = Type.Object(
  {
    name: Str('column header'),
    type: Str('string, integer, number, boolean or date'),
    jsonPath: Str('simple JSONPath into the object, e.g. .status.stars'),
    format: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    priority: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const ResourceConfig = Type.Object(
  {
    kind: Str('Kind, e.g. Repository'),
    plural: Str('lower-case plural used in URLs, e.g. repositories'),
    singular: Type.Optional(Type.String()),
    shortNames: Type.Optional(Type.Array(Type.String())),
    categories: Type.Optional(Type.Array(Type.String())),
    description: Type.Optional(Type.String()),
    scope: Type.Optional(Str('Cluster (default) or Namespaced')),
    pollInterval: Type.Optional(Type.Union([Type.String(), Type.Number()], { description: 'e.g. 30s' })),
    url: Str('URL template, absolute or relative to baseUrl; {name} is replaced by vars.name, URL-encoded'),
    query: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    auth: Type.Optional(AuthConfig),
    pagination: Type.Optional(PaginationConfig),
    itemsPath: Expr('the array of items in one response body, e.g. `data` or `$` for a top-level array'),
    mapping: MappingConfig,
    schema: Type.Optional(
      Type.Object(
        {
          spec: Type.Optional(Type.Unknown({ description: 'JSON Schema (OpenAPI subset) of spec' })),
          status: Type.Optional(Type.Unknown({ description: 'JSON Schema (OpenAPI subset) of status' })),
        },
        { additionalProperties: false },
      ),
    ),
    columns: Type.Optional(Type.Array(ColumnConfig)),
    fields: Type.Optional(Type.Array(Type.String())),
    maxItems: Type.Optional(Type.Integer({ minimum: 1, description: 'items one poll may return (default 10000)' })),
    limits: Type.Optional(
      Type.Object(
        {
          steps: Type.Optional(
            Type.Integer({
              minimum: 1,
              description: 'evaluation steps one expression may take per item (default 100000)',
            }),
          ),
          timeout: Type.Optional(
            Type.Integer({ minimum: 1, description: 'milliseconds one expression may run per item (default 1000)' }),
          ),
          stack: Type.Optional(Type.Integer({ minimum: 1, description: 'evaluation depth (default 200)' })),
          sequence: Type.Optional(Type.Integer({ minimum: 1, description: 'longest sequence built (default 100000)' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const HttpConfig = Type.Object(
  {
    baseUrl: Type.Optional(Type.String({ format: 'uri', description: 'base of relative resource URLs' })),
    vars: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: 'values of {name} in URL templates' }),
    ),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'headers of every call' })),
    auth: Type.Optional(AuthConfig),
    resources: Type.Optional(Type.Array(ResourceConfig, { description: 'the served resources' })),
    resourcesFile: Type.Optional(
      Str('a YAML file with a `resources:` list, relative to the config file (instead of resources)'),
    ),
  },
  { additionalProperties: false },
);

export type HttpConfig = Static<typeof HttpConfig>;
export type ResourceConfig = Static<typeof ResourceConfig>;
export type AuthConfig = Static<typeof AuthConfig>;
export type PaginationConfig = Static<typeof PaginationConfig>;
