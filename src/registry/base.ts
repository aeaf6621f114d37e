import type { ResourceInfo } from '../k8s/types.ts';
import type { UpstreamClient } from '../resilience/fetch.ts';
import type { Encoder } from '../resources/encode.ts';
import type { SkipLedger, SkipRecord } from '../resources/skips.ts';
import type { FieldGetter } from './list.ts';
import type { Connecter, Creater, Deleter, Updater } from './types.ts';

/** What every served resource is made of, whatever keeps its data. */
export interface CommonParts {
  adapter: string;
  info: ResourceInfo;
  encoder: Encoder;
  field: FieldGetter;
  supportedFields: ReadonlySet<string>;
  upstream: UpstreamClient;
  proxy?: Connecter;
  /** Upstream items that could not be served, by reason. */
  skips: SkipLedger;
}

/** The identity part of a storage implementation (what the handler reads besides capabilities). */
export abstract class StorageBase {
  readonly adapter: string;
  readonly info: ResourceInfo;
  readonly supportedFields: ReadonlySet<string>;
  readonly encoder: Encoder;
  readonly proxy: Connecter | undefined;
  /** Writes through the adapter (set by the runtime once the storage exists: they read through it). */
  creater: Creater | undefined;
  deleter: Deleter | undefined;
  updater: Updater | undefined;
  private readonly skips: SkipLedger;

  constructor(p: CommonParts) {
    this.adapter = p.adapter;
    this.info = p.info;
    this.supportedFields = p.supportedFields;
    this.encoder = p.encoder;
    this.proxy = p.proxy;
    this.skips = p.skips;
  }

  /** Upstream items that could not be served, one record per reason. */
  skipped(): SkipRecord[] {
    return this.skips.list();
  }
}
