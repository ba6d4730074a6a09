/**
 * `Promise.withResolvers` for Node 20, where it does not exist yet (it arrived in Node 22).
 *
 * The ASL interpreter (`aws-local-stepfunctions` 3.0.0) declares Node >= 22 because its Task
 * states call `Promise.withResolvers`; everything else it uses exists on Node 20.18
 * (`AbortSignal.any` since 20.3). With this spec-shaped stand-in it runs on 20.18+ as on 22+.
 * On Node 22+ the native one is left alone.
 */

interface WithResolvers {
  withResolvers?: unknown;
}

if (typeof (Promise as unknown as WithResolvers).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(this: PromiseConstructor) {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export {};
