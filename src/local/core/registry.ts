/**
 * The opened services of one stack, from the services list: opens them in dependency order
 * (`dependsOn` first, otherwise list order) and closes them in reverse, finds the service a request
 * is for (JSON target prefix, Query signing name, REST-JSON route), and calls any operation
 * in-process by AWS name (`invoke`) — the seam the CloudFormation provisioners and Step Functions'
 * `aws-sdk:<service>:<action>` tasks use.
 */
import type { Clock } from './clock.js';
import { AwsError } from './errors.js';
import type { Jobs, JobScope } from '../jobs/jobs.js';
import type { LocalContext } from '../types.js';
import type { OperationTable, RestJsonRoute, ServiceContext, ServiceDefinition } from './service.js';

export interface OpenedService {
  readonly definition: ServiceDefinition<unknown>;
  readonly instance: unknown;
  readonly operations: OperationTable;
}

/** The definitions in the order they must open: each after what it depends on. */
export function openOrder(definitions: readonly ServiceDefinition<unknown>[]): ServiceDefinition<unknown>[] {
  const byName = new Map(definitions.map((d) => [d.name, d]));
  const position = new Map(definitions.map((d, i) => [d.name, i]));
  if (byName.size !== definitions.length) throw new Error('Two services share a name in the services list.');
  const order: ServiceDefinition<unknown>[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (definition: ServiceDefinition<unknown>, path: string[]): void => {
    const seen = state.get(definition.name);
    if (seen === 'done') return;
    if (seen === 'visiting')
      throw new Error(`Services depend on each other in a cycle: ${[...path, definition.name].join(' → ')}`);
    state.set(definition.name, 'visiting');
    // Dependencies in list order, so the list decides between services that do not depend on each other.
    const dependsOn = [...(definition.dependsOn ?? [])].sort(
      (a, b) => (position.get(a) ?? Infinity) - (position.get(b) ?? Infinity),
    );
    for (const name of dependsOn) {
      const dependency = byName.get(name);
      if (dependency === undefined)
        throw new Error(`Service ${definition.name} depends on ${name}, which is not in the services list.`);
      visit(dependency, [...path, definition.name]);
    }
    state.set(definition.name, 'done');
    order.push(definition);
  };
  for (const definition of definitions) visit(definition, []);
  return order;
}

function matchRoute(route: RestJsonRoute, method: string, path: string): Record<string, string> | undefined {
  if (route.method !== method) return undefined;
  const want = route.path.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const members: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!;
    if (segment.startsWith('{') && segment.endsWith('}')) {
      try {
        members[segment.slice(1, -1)] = decodeURIComponent(got[i]!);
      } catch {
        return undefined;
      }
    } else if (segment !== got[i]) return undefined;
  }
  return members;
}

export class ServiceRegistry {
  private readonly opened: OpenedService[] = [];
  private readonly byName = new Map<string, OpenedService>();
  private readonly scopes = new Map<string, JobScope>();

  private constructor(
    readonly context: LocalContext,
    readonly clock: Clock,
    readonly jobs: Jobs,
  ) {}

  /** Opens every service of `definitions` (closing those already open if one fails). */
  static async open(
    definitions: readonly ServiceDefinition<unknown>[],
    base: { context: LocalContext; clock: Clock; jobs: Jobs },
  ): Promise<ServiceRegistry> {
    const registry = new ServiceRegistry(base.context, base.clock, base.jobs);
    try {
      for (const definition of openOrder(definitions)) {
        const allowed = new Set(definition.dependsOn ?? []);
        registry.scopes.set(definition.name, base.jobs.scope(definition.name));
        const ctx: ServiceContext = {
          ...base.context,
          clock: base.clock,
          jobs: registry.scopes.get(definition.name)!,
          invoke: (service, operation, input) => registry.invoke(service, operation, input),
          serves: (service, operation) => registry.serves(service, operation),
          service: <T>(name: string): T => {
            if (!allowed.has(name))
              throw new Error(`Service ${definition.name} uses ${name} without listing it in dependsOn.`);
            return registry.instance<T>(name);
          },
        };
        const instance = await definition.open(ctx);
        const entry: OpenedService = { definition, instance, operations: definition.operations(instance) };
        registry.opened.push(entry);
        registry.byName.set(definition.name, entry);
      }
    } catch (error) {
      await registry.close().catch(() => undefined);
      throw error;
    }
    return registry;
  }

  /** The opened services, in open order. */
  services(): readonly OpenedService[] {
    return this.opened;
  }

  get(name: string): OpenedService | undefined {
    return this.byName.get(name);
  }

  /** The opened instance of a service (its typed API). */
  instance<T>(name: string): T {
    const entry = this.byName.get(name);
    if (entry === undefined) throw new Error(`No service ${name} is open.`);
    return entry.instance as T;
  }

  /** Whether an opened service serves `operation` (what `invoke` would find). */
  serves(service: string, operation: string): boolean {
    const entry = this.byName.get(service);
    return entry !== undefined && Object.hasOwn(entry.operations, operation);
  }

  /**
   * Calls `operation` of `service` with AWS-shaped input; resolves with the AWS-shaped output or
   * rejects with the AwsError the service raised (UnknownOperationException for an operation the
   * service does not serve).
   */
  async invoke(service: string, operation: string, input: object): Promise<unknown> {
    const entry = this.byName.get(service);
    if (entry === undefined)
      throw new AwsError('UnknownOperationException', `The mlpipe local stack does not serve ${service}.`);
    const handler = Object.hasOwn(entry.operations, operation) ? entry.operations[operation] : undefined;
    if (handler === undefined)
      throw new AwsError(
        'UnknownOperationException',
        `The mlpipe local stack does not implement ${entry.definition.displayName} operation ${operation}.`,
      );
    return handler(input);
  }

  /** The AWS JSON service with this `X-Amz-Target` prefix. */
  byTargetPrefix(prefix: string): OpenedService | undefined {
    return this.opened.find(
      (s) => s.definition.protocol.kind === 'json' && s.definition.protocol.targetPrefix === prefix,
    );
  }

  /** The Query service signed for with this signing name. */
  querySigningName(signingName: string): OpenedService | undefined {
    return this.opened.find(
      (s) => s.definition.protocol.kind === 'query' && s.definition.signingName === signingName,
    );
  }

  /** The S3-style REST-XML service. */
  restXml(): OpenedService | undefined {
    return this.opened.find((s) => s.definition.protocol.kind === 'rest-xml');
  }

  /** The REST-JSON route a request matches, among services signed for with `signingName`. */
  restJsonRoute(
    signingName: string,
    method: string,
    path: string,
  ): { service: OpenedService; route: RestJsonRoute; members: Record<string, string> } | undefined {
    for (const service of this.opened) {
      const protocol = service.definition.protocol;
      if (protocol.kind !== 'rest-json' || service.definition.signingName !== signingName) continue;
      for (const route of protocol.routes) {
        const members = matchRoute(route, method, path);
        if (members !== undefined) return { service, route, members };
      }
    }
    return undefined;
  }

  /** What each service holds, for `local status`. */
  stats(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const { definition, instance } of this.opened)
      if (definition.stats !== undefined) out[definition.name] = definition.stats(instance);
    return out;
  }

  /**
   * Closes the services in reverse open order (a service before those it depends on): first its
   * jobs stop and record how they ended, then the service itself closes.
   */
  async close(): Promise<void> {
    for (const { definition, instance } of [...this.opened].reverse()) {
      await this.scopes.get(definition.name)?.close();
      if (definition.close !== undefined) await definition.close(instance);
    }
    await this.jobs.close();
  }
}
