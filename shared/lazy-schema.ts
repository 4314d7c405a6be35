// A zod schema built the first time it is used rather than when its module is imported. Building the bridge's
// schemas (several hundred zod calls: the stored ticket, the helpdesk events, X's inbound events, the API's bodies)
// was the biggest share of each function's init beyond the AWS SDK it loads; most are needed only by the code path
// that parses or publishes that shape, and some (the event schemas) only by the contract generator.
//
// The value stands in for the schema itself: the same type, every property read from the built schema, so callers,
// nested schemas and `z.infer` see no difference. zod's registry is keyed by instance, so the schema's metadata
// (description, id) is copied onto the stand-in once built: a stand-in nested in another schema, or passed to
// `z.toJSONSchema`, is described as the schema it stands for.
import * as z from 'zod/mini';

/** `build()` run once, on the first read of any property; the value behaves as what it returned. */
export function lazySchema<T extends object>(build: () => T): T {
  let built: T | undefined;
  const target = {} as T;
  const real = (): T => {
    if (built === undefined) {
      built = build();
      if ('_zod' in built) {
        const meta = z.globalRegistry.get(built as unknown as z.core.$ZodType);
        if (meta !== undefined) z.globalRegistry.add(stand as unknown as z.core.$ZodType, meta);
      }
    }
    return built;
  };
  const stand: T = new Proxy(target, {
    get: (_, key) => Reflect.get(real(), key),
    has: (_, key) => Reflect.has(real(), key),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
      // A proxy may not report a property its (empty) target lacks as non-configurable.
      return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
    set: (_, key, value) => Reflect.set(real(), key, value),
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(real(), key, descriptor),
    deleteProperty: (_, key) => Reflect.deleteProperty(real(), key),
  });
  return stand;
}
