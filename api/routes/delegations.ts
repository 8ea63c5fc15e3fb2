import { z } from 'zod';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { conflict, forbidden, notFound, unprocessable } from '../problem';
import { createDelegation, delegationsOf, getDelegation, revokeDelegation } from '../../db/delegations';
import { getUser, listUsers } from '../../db/org';
import type { StaffActor } from './task-access';
import { Delegation, Person, personOf } from '../schemas/inbox';

/** The longest absence one delegation covers; a longer one is a reassignment of duties, not a stand-in. */
const MAX_DAYS = 90;

/**
 * Delegation for an absence (docs/issuance.md, "Assignment and delegation"): while it is in force,
 * the tasks assigned to the principal appear in the delegate's inbox, and the delegate decides
 * them "acting for" the principal, with the principal's authority.
 */
export function delegationRoutes(api: ApiRouter, deps: AppDeps) {
  api.route(
    {
      method: 'get',
      path: '/delegations',
      operationId: 'listDelegations',
      summary: 'Delegations I gave or received that have not ended',
      tag: 'inbox',
      auth: 'staff',
      responses: {
        200: {
          description: 'Given and received, soonest first',
          schema: z.looseObject({ items: z.array(Delegation) }),
        },
      },
    },
    async (ctx) => ({ items: await delegationsOf(deps.db, (ctx.state.actor as StaffActor).id) }),
  );

  api.route(
    {
      method: 'get',
      path: '/delegations/candidates',
      operationId: 'listDelegationCandidates',
      summary: 'Colleagues I may name as my delegate (active, with a role in one of my departments)',
      tag: 'inbox',
      auth: 'staff',
      responses: { 200: { description: 'Colleagues', schema: z.looseObject({ items: z.array(Person) }) } },
    },
    async (ctx) => {
      const actor = ctx.state.actor as StaffActor;
      const departments = [...new Set(actor.roles.map((r) => r.department).filter((d): d is string => !!d))];
      const users = departments.length ? await listUsers(deps.db, departments) : [];
      return { items: users.filter((u) => u.active && u.id !== actor.id).map(personOf) };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/delegations',
      operationId: 'createDelegation',
      summary: 'Name a colleague who works my tasks for a period (an absence)',
      tag: 'inbox',
      auth: 'staff',
      audit: { category: 'operation', action: 'delegation.create' },
      body: z.object({
        delegateId: z.number().int().positive(),
        startsAt: z.iso.datetime({ offset: true }).optional(),
        endsAt: z.iso.datetime({ offset: true }),
        reason: z.string().trim().max(200).optional(),
      }),
      responses: {
        201: { description: 'Created', schema: Delegation },
        422: 'The colleague or the period is not acceptable',
      },
    },
    async (ctx, { body }) => {
      const actor = ctx.state.actor as StaffActor;
      const now = new Date();
      const startsAt = body.startsAt ? new Date(body.startsAt) : now;
      const endsAt = new Date(body.endsAt);
      const invalid = (field: string, message: string) =>
        unprocessable(`Cannot delegate: ${message}`, [{ field, message }]);
      if (endsAt <= startsAt || endsAt <= now)
        throw invalid('endsAt', 'the period must end after it starts, in the future');
      if (endsAt.getTime() - startsAt.getTime() > MAX_DAYS * 86_400_000)
        throw invalid('endsAt', `a delegation covers at most ${MAX_DAYS} days`);
      const delegate = await getUser(deps.db, body.delegateId);
      // A colleague: someone active with a role in one of the principal's departments.
      const mine = new Set(actor.roles.map((r) => r.department));
      const message = !delegate
        ? `no user ${body.delegateId}`
        : delegate.id === actor.id
          ? 'you cannot delegate to yourself'
          : !delegate.active
            ? `${delegate.username} is deactivated`
            : !delegate.roles.some((r) => r.department !== null && mine.has(r.department))
              ? `${delegate.username} works in none of your departments`
              : undefined;
      if (message) throw invalid('delegateId', message);
      const reason = body.reason || null;
      const created = await createDelegation(deps.db, {
        userId: actor.id,
        delegateId: delegate!.id,
        startsAt,
        endsAt,
        reason,
      });
      ctx.state.auditObject = { type: 'delegation', id: String(created.id) };
      ctx.state.auditDepartment = actor.roles.find((r) => r.department)?.department ?? null;
      ctx.state.auditDetail = { delegate: delegate!.username, startsAt, endsAt, reason };
      ctx.status = 201;
      return created;
    },
  );

  api.route(
    {
      method: 'delete',
      path: '/delegations/:id',
      operationId: 'revokeDelegation',
      summary: 'End a delegation early (its principal or its delegate)',
      tag: 'inbox',
      auth: 'staff',
      audit: { category: 'operation', action: 'delegation.revoke' },
      params: z.object({ id: z.coerce.number().int().positive() }),
      responses: {
        200: { description: 'Revoked', schema: Delegation },
        403: 'Not your delegation',
        409: 'Already revoked',
      },
    },
    async (ctx, { params }) => {
      const actor = ctx.state.actor as StaffActor;
      const g = await getDelegation(deps.db, params.id);
      if (!g) throw notFound(`No delegation ${params.id}`);
      ctx.state.auditObject = { type: 'delegation', id: String(g.id) };
      if (g.user.id !== actor.id && g.delegate.id !== actor.id) {
        ctx.state.denial = { action: 'delegation.revoke', reason: 'neither its principal nor its delegate' };
        throw forbidden(`Delegation ${g.id} is not yours`);
      }
      if (!(await revokeDelegation(deps.db, g.id))) throw conflict(`Delegation ${g.id} is already revoked`);
      return getDelegation(deps.db, g.id);
    },
  );
}
