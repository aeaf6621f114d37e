import { Type, type Static } from '@sinclair/typebox';

/**
 * The `audit.k8s.io/v1` types kubegate writes and reads, as the kube-apiserver declares them
 * (k8s.io/apiserver/pkg/apis/audit/v1): the Event of each audit log line and the Policy file. The schemas are
 * JSON Schema (TypeBox): the Policy one validates the policy file; the Event one is what the audit log is
 * checked against in tests.
 */

export const LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;
export type Level = (typeof LEVELS)[number];

export const STAGES = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] as const;
export type Stage = (typeof STAGES)[number];

/** Levels in order: a level includes everything a lower one records. */
export const LEVEL_RANK: Record<Level, number> = { None: 0, Metadata: 1, Request: 2, RequestResponse: 3 };

/** The `Audit-ID` header: set by the first server that receives a request (the aggregator), echoed back. */
export const AUDIT_ID_HEADER = 'audit-id';

const LevelSchema = Type.Union(
  LEVELS.map((l) => Type.Literal(l)),
  { description: 'None, Metadata, Request or RequestResponse' },
);
const StageSchema = Type.Union(
  STAGES.map((s) => Type.Literal(s)),
  { description: 'RequestReceived, ResponseStarted, ResponseComplete or Panic' },
);

const Strings = Type.Array(Type.String());

export const GroupResourcesSchema = Type.Object(
  {
    group: Type.Optional(Type.String()),
    resources: Type.Optional(Strings),
    resourceNames: Type.Optional(Strings),
  },
  { additionalProperties: false },
);

export const PolicyRuleSchema = Type.Object(
  {
    level: LevelSchema,
    users: Type.Optional(Strings),
    userGroups: Type.Optional(Strings),
    verbs: Type.Optional(Strings),
    resources: Type.Optional(Type.Array(GroupResourcesSchema)),
    namespaces: Type.Optional(Strings),
    nonResourceURLs: Type.Optional(Strings),
    omitStages: Type.Optional(Type.Array(StageSchema)),
    omitManagedFields: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const PolicySchema = Type.Object(
  {
    apiVersion: Type.Literal('audit.k8s.io/v1'),
    kind: Type.Literal('Policy'),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    rules: Type.Array(PolicyRuleSchema),
    omitStages: Type.Optional(Type.Array(StageSchema)),
    omitManagedFields: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export type Policy = Static<typeof PolicySchema>;
export type PolicyRule = Static<typeof PolicyRuleSchema>;

/** authentication.k8s.io/v1 UserInfo. */
const UserInfoSchema = Type.Object(
  {
    username: Type.Optional(Type.String()),
    uid: Type.Optional(Type.String()),
    groups: Type.Optional(Strings),
    extra: Type.Optional(Type.Record(Type.String(), Strings)),
  },
  { additionalProperties: false },
);

/** metav1.MicroTime on the wire: RFC 3339 in UTC with six fractional digits. */
const MicroTime = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z$' });

/** metav1.Status as the audit event carries it (`responseStatus`). */
const StatusSchema = Type.Object(
  {
    kind: Type.Optional(Type.Literal('Status')),
    apiVersion: Type.Optional(Type.Literal('v1')),
    metadata: Type.Object({}, { additionalProperties: true }),
    status: Type.Optional(Type.Union([Type.Literal('Success'), Type.Literal('Failure')])),
    message: Type.Optional(Type.String()),
    reason: Type.Optional(Type.String()),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    code: Type.Integer({ minimum: 100, maximum: 599 }),
  },
  { additionalProperties: false },
);

const ObjectReferenceSchema = Type.Object(
  {
    resource: Type.Optional(Type.String()),
    namespace: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    uid: Type.Optional(Type.String()),
    apiGroup: Type.Optional(Type.String()),
    apiVersion: Type.Optional(Type.String()),
    resourceVersion: Type.Optional(Type.String()),
    subresource: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const EventSchema = Type.Object(
  {
    kind: Type.Literal('Event'),
    apiVersion: Type.Literal('audit.k8s.io/v1'),
    level: Type.Union([Type.Literal('Metadata'), Type.Literal('Request'), Type.Literal('RequestResponse')]),
    auditID: Type.String({ minLength: 1 }),
    stage: StageSchema,
    requestURI: Type.String(),
    verb: Type.String({ minLength: 1 }),
    user: UserInfoSchema,
    impersonatedUser: Type.Optional(UserInfoSchema),
    sourceIPs: Type.Optional(Strings),
    userAgent: Type.Optional(Type.String()),
    objectRef: Type.Optional(ObjectReferenceSchema),
    responseStatus: Type.Optional(StatusSchema),
    requestObject: Type.Optional(Type.Unknown()),
    responseObject: Type.Optional(Type.Unknown()),
    requestReceivedTimestamp: MicroTime,
    stageTimestamp: MicroTime,
    annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);

export type AuditEvent = Static<typeof EventSchema>;
export type AuditUser = Static<typeof UserInfoSchema>;
export type ObjectReference = Static<typeof ObjectReferenceSchema>;
export type ResponseStatus = Static<typeof StatusSchema>;
