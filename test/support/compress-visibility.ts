// Time compression for tests of a worker's backoff: every visibility change the client sends is recorded as asked
// and applied as at most 1 s, so a test checks the schedule the worker chose without waiting it out.
type Args = { input: Record<string, unknown> };

/** Records each ChangeMessageVisibility's `VisibilityTimeout` in `requested` and sends it as at most `maxSeconds`. */
export function compressVisibility(sqs: { middlewareStack: unknown }, requested: number[], maxSeconds = 1): void {
  (sqs.middlewareStack as unknown as { add: (m: unknown, o: unknown) => void }).add(
    (next: (a: Args) => Promise<unknown>, context: { commandName?: string }) => async (args: Args) => {
      if (context.commandName !== 'ChangeMessageVisibilityCommand') return next(args);
      const asked = Number(args.input.VisibilityTimeout);
      requested.push(asked);
      return next({ ...args, input: { ...args.input, VisibilityTimeout: Math.min(maxSeconds, asked) } });
    },
    { step: 'initialize', name: 'compressTime' },
  );
}
