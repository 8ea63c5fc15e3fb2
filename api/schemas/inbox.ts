import { z } from 'zod';

/**
 * Response bodies of the inbox's assignment, delegation and bulk routes (docs/issuance.md), so
 * /openapi.json states them and the contract tests hold the server to them. Objects stay open.
 */

const isoTime = z.string().describe('ISO 8601 date-time');
const person = z.looseObject({ id: z.number().int(), name: z.string() });

export const Person = z
  .looseObject({ id: z.number().int(), username: z.string(), displayName: z.string() })
  .meta({ id: 'Colleague' });
export const personOf = (u: { id: number; username: string; displayName: string }) => ({
  id: u.id,
  username: u.username,
  displayName: u.displayName,
});

export const Task = z
  .looseObject({
    id: z.number().int(),
    applicationId: z.string(),
    stepKey: z.string(),
    stepName: z.string(),
    role: z.string(),
    department: z.string(),
    status: z.enum(['open', 'done', 'cancelled']),
    assignee: person.nullable(),
    dueAt: isoTime.nullable(),
    followUpAt: isoTime.nullable(),
    decision: z.string().nullable(),
    decidedBy: z.string().nullable(),
    actingFor: z.string().nullable().describe('When a delegate decided: the colleague they acted for'),
  })
  .meta({ id: 'Task' });

export const Delegation = z
  .looseObject({
    id: z.number().int(),
    user: person.describe('The principal, whose tasks the delegate works'),
    delegate: person,
    startsAt: isoTime,
    endsAt: isoTime,
    reason: z.string().nullable(),
    createdAt: isoTime,
    revokedAt: isoTime.nullable(),
  })
  .meta({ id: 'Delegation' });

export const BulkDecisionItem = z.looseObject({
  taskId: z.number().int(),
  outcome: z.enum(['approved', 'rejected', 'returned', 'refused']),
  status: z.number().int().nullable().describe('For a refused one: the status a single decision would have answered'),
  reason: z.string().nullable().describe('For a refused one: why'),
  applicationStatus: z.string().nullable(),
});
export type BulkDecisionItem = z.infer<typeof BulkDecisionItem>;

export const BulkDecisions = z
  .looseObject({
    items: z.array(BulkDecisionItem).describe('One per task, in the order given'),
    counts: z.looseObject({ decided: z.number().int(), refused: z.number().int() }),
  })
  .meta({ id: 'BulkDecisions' });
