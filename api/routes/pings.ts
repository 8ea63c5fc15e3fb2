import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { AppDeps } from '../app';
import type { ApiRouter } from '../routing';
import { notFound } from '../problem';
import { requirePermission } from '../auth';
import { pingWorkflow, pingStateQuery } from '../../workflows/ping';
import { pingRunText } from '../../domain/operations';
import { PingStarted, PingState } from '../schemas/organisation';

/** A round trip through every part of the system; operators use it to check a deployment. */
export function pingRoutes(api: ApiRouter, deps: AppDeps) {
  api.route(
    {
      method: 'post',
      path: '/pings',
      operationId: 'startPing',
      scopes: ['operations:ping'],
      summary: 'Start a ping workflow that records a row through an activity',
      tag: 'operations',
      body: z.object({ message: z.string().trim().min(1).max(200) }),
      responses: { 202: { description: 'Workflow started', schema: PingStarted } },
    },
    async (ctx, { body }) => {
      requirePermission(ctx, 'operations.ping');
      const pingId = randomUUID();
      const handle = await deps.temporal.workflow.start(pingWorkflow, {
        taskQueue: deps.config.temporal.taskQueue,
        workflowId: `ping-${pingId}`,
        args: [{ pingId, message: body.message }],
        ...pingRunText(),
      });
      ctx.status = 202;
      ctx.set('Location', `${api.prefix}/pings/${pingId}`);
      return { id: pingId, workflowId: handle.workflowId };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/pings/:id',
      operationId: 'getPing',
      responses: { 200: { description: "The ping workflow's state", schema: PingState } },
      scopes: ['operations:ping'],
      summary: 'State of a ping workflow, from its Query',
      tag: 'operations',
      params: z.object({ id: z.uuid() }),
    },
    async (ctx, { params }) => {
      requirePermission(ctx, 'operations.ping');
      const handle = deps.temporal.workflow.getHandle(`ping-${params.id}`);
      try {
        return await handle.query(pingStateQuery);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw notFound(`No ping ${params.id}`);
        throw err;
      }
    },
  );
}
