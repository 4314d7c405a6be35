// Schemas built on first use (shared/lazy-schema.ts): importing a function's modules builds none of the helpdesk
// contract's schemas, and a schema built late parses, fails and is described exactly as one built at import.
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { lazySchema } from '../../shared/lazy-schema';
import { buildHelpdeskEventSchemas } from '../../shared/helpdesk/events';
import { buildApiSchemas, statusChangeSchema } from '../../shared/tickets/ticket-api';

const named = () => [...(z.globalRegistry as unknown as { _idmap: Map<string, unknown> })._idmap.keys()];

describe('lazySchema', () => {
  it('importing the event and API modules builds none of their named schemas; building them names them all', () => {
    expect(named()).not.toContain('Ticket');
    expect(named()).not.toContain('TicketPage');
    buildHelpdeskEventSchemas();
    buildApiSchemas();
    expect(named()).toEqual(expect.arrayContaining(['Ticket', 'Message', 'TicketEvent', 'TicketPage', 'StatusChange', 'AttachmentLink']));
  });

  it('builds once, on first use, and parses and fails as the schema it stands for', () => {
    let builds = 0;
    const build = () => z.object({ id: z.string().check(z.regex(/^\d+$/)), tags: z.optional(z.array(z.string())) });
    const lazy = lazySchema(() => {
      builds += 1;
      return build();
    });
    expect(builds).toBe(0);
    const eager = build();
    for (const input of [{ id: '12' }, { id: 'x' }, { id: 3, tags: [1] }, null]) {
      expect(JSON.stringify(lazy.safeParse(input))).toBe(JSON.stringify(eager.safeParse(input)));
    }
    expect(builds).toBe(1);
    expect(Object.keys(lazy)).toEqual(Object.keys(eager));
    expect(Object.keys(lazy.shape)).toEqual(['id', 'tags']);
  });

  it('carries the metadata registered on the schema it stands for', () => {
    expect(z.globalRegistry.get(statusChangeSchema)?.id).toBe('StatusChange');
    const json = z.toJSONSchema(statusChangeSchema, { io: 'input' }) as { $defs: Record<string, { title?: string; description?: string }> };
    const { title, description } = json.$defs.StatusChange ?? {};
    expect([title, description]).toEqual(['Status change', 'Sets a ticket\'s status; emits ticket.status_changed.']);
  });
});
