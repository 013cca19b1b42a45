// A Broker for route tests: records every call, answers with canned results, and can be told
// to throw (a BrokerError, or anything else) from any method. No Temporal, no Kubernetes.
import type {
  BindingDetails,
  BindResult,
  Broker,
  InstanceDetails,
  LastOperation,
  ProvisionResult,
  RemovalResult,
  UpdateResult,
} from '../broker/service-broker.js';

export type BrokerMethod = keyof Broker;
type Result<M extends BrokerMethod> = Awaited<ReturnType<Broker[M]>>;
type Args<M extends BrokerMethod> = Parameters<Broker[M]>;

type Results = { [M in BrokerMethod]: Result<M> };

export interface BrokerCall<M extends BrokerMethod = BrokerMethod> {
  method: M;
  args: Args<M>;
}

export const FAKE_CREDENTIALS = { username: 'user', password: 'fake-secret', uri: 'fake://user:fake-secret@host:1' };

/** What each method answers until told otherwise: the happy, asynchronous path. */
function defaults(): Results {
  return {
    provision: { status: 'accepted', operation: 'provision-0001' } satisfies ProvisionResult,
    getInstance: { service_id: 'service', plan_id: 'plan', parameters: {}, context: {}, metadata: { labels: {}, attributes: {} } } satisfies InstanceDetails,
    update: { status: 'accepted', operation: 'update-0001' } satisfies UpdateResult,
    deprovision: { status: 'accepted', operation: 'deprovision-0001' } satisfies RemovalResult,
    lastOperation: { state: 'succeeded' } satisfies LastOperation,
    bind: { status: 'created', credentials: { ...FAKE_CREDENTIALS }, parameters: {} } satisfies BindResult,
    getBinding: { credentials: { ...FAKE_CREDENTIALS }, parameters: {} } satisfies BindingDetails,
    unbind: { status: 'done' } satisfies RemovalResult,
    bindingLastOperation: { state: 'succeeded' } satisfies LastOperation,
    ready: { ok: true, checks: { temporal: 'ok', kubernetes: 'ok' } },
  };
}

export class FakeBroker implements Broker {
  readonly calls: BrokerCall[] = [];
  private readonly results: Results = defaults();
  private readonly failures = new Map<BrokerMethod, unknown>();

  /** `method` answers `result` from now on. */
  willReturn<M extends BrokerMethod>(method: M, result: Result<M>): this {
    (this.results as Record<BrokerMethod, unknown>)[method] = result;
    this.failures.delete(method);
    return this;
  }

  /** `method` throws `error` from now on (a BrokerError, or anything the app must survive). */
  willThrow(method: BrokerMethod, error: unknown): this {
    this.failures.set(method, error);
    return this;
  }

  /** The arguments of every call of `method`, in order. */
  callsOf<M extends BrokerMethod>(method: M): Args<M>[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args as Args<M>);
  }

  /** The first argument of the only call of `method`; fails when there was not exactly one. */
  onlyCall<M extends BrokerMethod>(method: M): Args<M>[0] {
    const calls = this.callsOf(method);
    if (calls.length !== 1) throw new Error(`expected one call of ${method}, got ${calls.length}`);
    return calls[0]![0];
  }

  /** Settles as the real broker's async methods do: a failure rejects, it is not thrown. */
  private answer<M extends BrokerMethod>(method: M, args: Args<M>): Promise<Result<M>> {
    this.calls.push({ method, args });
    // willThrow takes non-Errors on purpose: the app must survive whatever a broker rejects with.
    if (this.failures.has(method)) return Promise.reject(this.failures.get(method));
    return Promise.resolve(structuredClone(this.results[method]));
  }

  provision = (...args: Args<'provision'>) => this.answer('provision', args);
  getInstance = (...args: Args<'getInstance'>) => this.answer('getInstance', args);
  update = (...args: Args<'update'>) => this.answer('update', args);
  deprovision = (...args: Args<'deprovision'>) => this.answer('deprovision', args);
  lastOperation = (...args: Args<'lastOperation'>) => this.answer('lastOperation', args);
  bind = (...args: Args<'bind'>) => this.answer('bind', args);
  getBinding = (...args: Args<'getBinding'>) => this.answer('getBinding', args);
  unbind = (...args: Args<'unbind'>) => this.answer('unbind', args);
  bindingLastOperation = (...args: Args<'bindingLastOperation'>) => this.answer('bindingLastOperation', args);
  ready = (...args: Args<'ready'>) => this.answer('ready', args);
}
